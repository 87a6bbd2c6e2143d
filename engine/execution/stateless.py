"""Executing one block on a state that is loaded lazily, node by node, from a source of trie nodes and code keyed by
their keccak256 hash (a fault-proof witness, a test fixture's key-value store).

py-evm's account database reads every trie node and every contract code by hash from a dict-like database; here
that database answers from what the block itself has written so far and otherwise asks ``node_source`` (which
may raise to say the witness lacks the node: the error reaches the caller unchanged). The block is built exactly
as the engine builds one from payload attributes (:class:`engine.execution.evm.block.BlockBuilder`, op-geth's rules); the
difference is only where the state comes from. Mirrors kona's ``StatelessL2Builder`` (kona
``crates/proof/executor/src/builder/core.rs``, op-rs/kona@cdb9be24, 2026-01-09): a transaction that cannot be
included makes the whole block invalid (:class:`BlockInvalid`), and from Jovian a DA footprint above the gas limit
does too.

The output root of the result (specs: proposals.md §L2 Output Commitment Construction) takes the
L2ToL1MessagePasser's storage root from the post-state before Isthmus and from the header's withdrawalsRoot after.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator

from eth.db.account import AccountDB
from eth.db.atomic import AtomicDB
from eth.db.backends.base import BaseDB

from derivation.protocol.output_root import OutputV0
from derivation.protocol.predeploys import L2_TO_L1_MESSAGE_PASSER
from derivation.protocol.rollup_config import Fork, RollupConfig
from derivation.protocol.transactions import Transaction
from derivation.protocol.trie import EMPTY_TRIE_ROOT
from engine.execution.chain_spec import ChainSpec
from engine.execution.evm.block import BlockAttributes, BlockBuilder, SealedBlock
from engine.execution.evm.header import Header
from engine.execution.evm.outcome import InvalidTransaction
from engine.execution.genesis import artifact_code


class BlockInvalid(Exception):
    """The attributes do not make a valid block on this parent (a transaction cannot be included)."""


class StateMissing(Exception):
    """The state source lacks a trie node or code the block needs (``node_hash``)."""

    def __init__(self, node_hash: bytes):
        super().__init__(f"the state source lacks node or code 0x{node_hash.hex()}")
        self.node_hash = node_hash


class _NodeMissing(KeyError):
    """What py-evm sees for a node the source lacks: a KeyError, which its trie turns into MissingTrieNode (and a
    pruning delete of an old node simply skips)."""


class LazyNodeDB(BaseDB):
    """Nodes and code by hash: the block's own writes first, then ``node_source(hash)`` (None: not there)."""

    def __init__(self, node_source: Callable[[bytes], bytes | None], has_node: Callable[[bytes], bool]):
        self.written: dict[bytes, bytes] = {}
        self.node_source = node_source
        self.has_node = has_node

    def __getitem__(self, key: bytes) -> bytes:
        v = self.written.get(key)
        if v is None:
            v = self.node_source(bytes(key))
            if v is None:
                raise _NodeMissing(bytes(key))
        return v

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.written[bytes(key)] = bytes(value)

    def _exists(self, key: bytes) -> bool:
        return key in self.written or self.has_node(bytes(key))

    def __delitem__(self, key: bytes) -> None:
        self.written.pop(bytes(key), None)


def spec_for(cfg: RollupConfig) -> ChainSpec:
    """The execution chain config a rollup config implies (op-geth's ``optimism`` section and fork times)."""
    op = cfg.chain_op_config
    return ChainSpec(cfg.l2_chain_id, dict(cfg.fork_times), op.eip1559_elasticity, op.eip1559_denominator,
                     op.eip1559_denominator_canyon)


class StatelessExecutor:
    """Builds blocks on a lazily loaded state; one instance per run (new nodes of earlier blocks stay readable)."""

    def __init__(self, spec: ChainSpec, node_source: Callable[[bytes], bytes], has_node: Callable[[bytes], bool],
                 header_by_hash: Callable[[bytes], Header]):
        self.spec = spec
        self.nodes = LazyNodeDB(node_source, has_node)
        self.db = AtomicDB(self.nodes)
        self.header_by_hash = header_by_hash

    def _ancestors(self, parent: Header) -> Iterator[bytes]:
        """BLOCKHASH's view, newest first, read only as far back as a BLOCKHASH asks."""
        h = parent
        for _ in range(256):
            yield h.hash
            if h.number == 0:
                return
            h = self.header_by_hash(h.parent_hash)

    def build(self, parent: Header, attrs: BlockAttributes, txs: Iterable[Transaction]) -> SealedBlock:
        """The sealed block; :class:`BlockInvalid` if it cannot be built, :class:`StateMissing` if the source lacks
        state it needs."""
        with _missing_state():
            return self._build(parent, attrs, txs)

    def _build(self, parent: Header, attrs: BlockAttributes, txs: Iterable[Transaction]) -> SealedBlock:
        try:
            b = BlockBuilder(self.spec, self.db, parent, attrs, self._ancestors(parent), artifact_code("Create2Deployer"))
            for i, tx in enumerate(txs):
                try:
                    b.apply(tx)
                except InvalidTransaction as e:
                    raise BlockInvalid(f"transaction {i} (0x{tx.hash.hex()}) cannot be included: {e}") from None
            if b.executor.jovian and b.executor.da_footprint > attrs.gas_limit:
                raise BlockInvalid(f"DA footprint {b.executor.da_footprint} exceeds the gas limit {attrs.gas_limit}")
            return b.seal()
        except BlockInvalid:
            self.db = AtomicDB(self.nodes)  # nothing of the failed block is read again: its nodes are unreferenced
            raise

    def message_passer_storage_root(self, header: Header) -> bytes:
        with _missing_state():
            return self._message_passer_storage_root(header)

    def _message_passer_storage_root(self, header: Header) -> bytes:
        acct = AccountDB(self.db, header.state_root)._get_account(L2_TO_L1_MESSAGE_PASSER)
        return acct.storage_root or EMPTY_TRIE_ROOT

    def output(self, header: Header) -> OutputV0:
        if self.spec.is_active(Fork.ISTHMUS, header.timestamp):
            mp_root = header.withdrawals_root
        else:
            mp_root = self.message_passer_storage_root(header)
        return OutputV0(header.state_root, mp_root, header.hash)

    def output_root(self, header: Header) -> bytes:
        return self.output(header).root()


@contextlib.contextmanager
def _missing_state():
    """py-evm wraps a missing node into its own exceptions (MissingTrieNode, MissingBytecode, ...), raised from
    the KeyError: find ours in the chain and say which node was missing."""
    try:
        yield
    except (BlockInvalid, StateMissing):
        raise
    except Exception as e:
        cause: BaseException | None = e
        while cause is not None:
            if isinstance(cause, _NodeMissing):
                raise StateMissing(cause.args[0]) from None
            cause = cause.__cause__ or cause.__context__
        raise
