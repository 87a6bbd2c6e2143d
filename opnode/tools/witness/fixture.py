"""kona's executor test fixtures: execute payload attributes on a parent block with the state in a key-value store
and compare the block hash with the expected one (kona ``crates/proof/executor/src/test_utils.rs``
``run_test_fixture``, op-rs/kona@cdb9be24, 2026-01-09).

A fixture is a tarball of one folder holding ``fixture.json`` (``rollup_config`` in op-node's rollup.json shape,
``parent_header`` in the JSON-RPC header shape, ``executing_payload`` as Engine API payload attributes,
``expected_block_hash``) and ``kv/``, a RocksDB of keccak256 preimages keyed by the plain hash: state and storage
trie nodes, code, and the ancestor headers BLOCKHASH reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from derivation.protocol.attributes import PayloadAttributes
from derivation.protocol.errors import ParseError
from derivation.protocol.hexutil import from_hex, to_hex
from derivation.protocol.jsonutil import loads_bounded
from derivation.protocol.rollup_config import RollupConfig
from derivation.protocol.transactions import decode as decode_tx
from engine.execution.evm.block import BlockAttributes
from engine.execution.evm.header import Header
from engine.execution.stateless import BlockInvalid, StatelessExecutor, StateMissing, spec_for
from opnode.node.l1.blockdata import header_rlp
from opnode.tools.witness.keys import keccak_key
from opnode.tools.witness.oracle import Oracle, PreimageMismatch, PreimageMissing
from opnode.tools.witness.stores import StoreError, open_archive


class FixtureError(ParseError):
    """The file is not an executor fixture."""


@dataclass(frozen=True, slots=True)
class Fixture:
    cfg: RollupConfig
    parent: Header
    attributes: PayloadAttributes
    expected_hash: bytes


@dataclass(frozen=True, slots=True)
class FixtureResult:
    fixture: Fixture
    matches: bool
    header: Header | None  # None: the attributes do not make a valid block
    message: str
    preimages_read: int


def parse_fixture(doc: dict) -> Fixture:
    try:
        cfg = RollupConfig.from_json(doc["rollup_config"])
        parent = Header.decode(header_rlp(doc["parent_header"]))
        attrs = PayloadAttributes.from_json(doc["executing_payload"])
        expected = from_hex(doc["expected_block_hash"], 32)
    except KeyError as e:
        raise FixtureError(f"fixture.json lacks {e.args[0]!r}") from None
    except (ParseError, TypeError, ValueError) as e:
        raise FixtureError(f"fixture.json is malformed: {e}") from None
    return Fixture(cfg, parent, attrs, expected)


def run_fixture_file(path: str | Path) -> FixtureResult:
    """Raises :class:`FixtureError` / ``StoreError`` for a file that is not a fixture, ``PreimageError`` when the
    store lacks (or holds a wrong) node the block needs."""
    store, others = open_archive(Path(path), raw_keccak=True, extract="kv")
    with store:
        raw = others.get("fixture.json")
        if raw is None:
            raise FixtureError(f"{path} holds no fixture.json")
        return run_fixture(fixture_from_json(raw), Oracle(store))


def fixture_from_json(raw: bytes) -> Fixture:
    """``fixture.json``'s bytes → the fixture (FixtureError for anything else)."""
    try:
        doc = loads_bounded(raw)  # json.loads overflows the C stack on deep nesting (a segfault: jsonutil)
    except (ValueError, UnicodeDecodeError, ParseError) as e:
        raise FixtureError(f"fixture.json is not JSON: {e}") from None
    if not isinstance(doc, dict):
        raise FixtureError("fixture.json is not a JSON object")
    return parse_fixture(doc)


def run_fixture(f: Fixture, oracle: Oracle) -> FixtureResult:
    number = f.parent.number + 1
    purpose = f"the state read by L2 block {number} (a trie node or contract code)"

    def header_by_hash(h: bytes) -> Header:
        what = f"an ancestor header {to_hex(h)} (BLOCKHASH)"
        raw = oracle.keccak(h, what)
        try:
            return Header.decode(raw)
        except ParseError as e:
            raise PreimageMismatch(keccak_key(h), what, f"is not a block header: {e}") from None

    ex = StatelessExecutor(spec_for(f.cfg), lambda h: oracle.keccak_if_held(h, purpose), oracle.has_keccak,
                           header_by_hash)
    a = f.attributes
    battrs = BlockAttributes(timestamp=a.timestamp, prev_randao=a.prev_randao, fee_recipient=a.suggested_fee_recipient,
                             gas_limit=a.gas_limit, parent_beacon_root=a.parent_beacon_block_root,
                             eip1559_params=a.eip1559_params, min_base_fee=a.min_base_fee)
    try:
        txs = [decode_tx(t) for t in a.transactions]
        sealed = ex.build(f.parent, battrs, txs)
    except (BlockInvalid, ParseError) as e:
        return FixtureResult(f, False, None, f"L2 block {number} cannot be built: {e}", oracle.stats.reads)
    except StateMissing as e:
        raise PreimageMissing(keccak_key(e.node_hash), purpose) from None
    h = sealed.header
    if h.hash == f.expected_hash:
        return FixtureResult(f, True, h, f"L2 block {number} hashes to {to_hex(h.hash)}, the expected hash",
                             oracle.stats.reads)
    return FixtureResult(f, False, h, f"L2 block {number} hashes to {to_hex(h.hash)}, not the expected "
                                      f"{to_hex(f.expected_hash)} (state root {to_hex(h.state_root)}, gas used "
                                      f"{h.gas_used})", oracle.stats.reads)


__all__ = ["Fixture", "FixtureError", "FixtureResult", "StoreError", "fixture_from_json", "parse_fixture", "run_fixture",
           "run_fixture_file"]
