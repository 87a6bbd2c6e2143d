"""The embedded OP execution client (py-evm): the EVM rules per fork (``evm``), the chain and its store, genesis,
the txpool, stateless execution over preimages, and the Engine API / eth JSON-RPC servers (``engine_api``,
``eth_api``, ``server``, ``service``). For devnets, replay and fault-proof witnesses; real networks use op-reth.
"""
