"""The execution side: the embedded py-evm OP execution engine (``engine.evm``, ``chain``, ``api``, ``server``) that
serves the Engine API, and the Engine API client the node uses (``client``)."""
