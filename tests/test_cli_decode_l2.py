"""``opnode decode l1-info | tx | deposit-log | upgrade-txs``: exit codes, JSON on stdout, one-line errors."""

import io
import json
import sys

import pytest

from derivation.protocol.hexutil import checksum_address, from_hex
from opnode.cli import main
from tests.vectors import ROOT, load


def run(capsys, *args, stdin: bytes | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    with pytest.raises(SystemExit) as e:
        main(["decode", *args])
    out, err = capsys.readouterr()
    return e.value.code, out, err


def ok(capsys, *args, **kw):
    code, out, err = run(capsys, *args, **kw)
    assert code == 0, (out, err)
    return json.loads(out)


def fails(capsys, *args, **kw) -> str:
    code, out, err = run(capsys, *args, **kw)
    assert code == 2
    msg = json.loads(out)["error"]
    assert msg and "\n" not in msg
    assert err.count("\n") == 1 and err.startswith("opnode: error: ") and "Traceback" not in err
    return msg


L1_INFO_KEYS = ["format", "number", "timestamp", "base_fee", "blob_base_fee", "hash", "sequence_number",
                "batcher_address", "l1_fee_overhead", "l1_fee_scalar", "base_fee_scalar", "blob_base_fee_scalar",
                "operator_fee_scalar", "operator_fee_constant", "da_footprint_gas_scalar"]
RENAMED = {"timestamp": "time", "hash": "block_hash"}


@pytest.mark.parametrize("v", load("l1_info_deposits.json")["vectors"], ids=lambda v: v["name"][:40])
def test_l1_info(capsys, v):
    arg = v["calldata"] if v["kind"] == "calldata" else v["raw_tx"]
    got = ok(capsys, "l1-info", arg)
    assert list(got) == L1_INFO_KEYS
    d = v["decoded"]
    for key in L1_INFO_KEYS:
        want = d.get(RENAMED.get(key, key))
        if key == "batcher_address":
            want = checksum_address(from_hex(want))
        assert got[key] == want, key


def test_l1_info_from_file_and_stdin(capsys, tmp_path, monkeypatch):
    v = load("l1_info_deposits.json")["vectors"][1]
    raw = from_hex(v["calldata"])
    (tmp_path / "hex.txt").write_text(v["calldata"] + "\n")
    (tmp_path / "raw.bin").write_bytes(raw)
    a = ok(capsys, "l1-info", f"@{tmp_path / 'hex.txt'}")
    b = ok(capsys, "l1-info", f"@{tmp_path / 'raw.bin'}")
    c = ok(capsys, "l1-info", "-", stdin=v["calldata"][2:].encode(), monkeypatch=monkeypatch)
    assert a == b == c and a["format"] == "ecotone" and a["number"] == 19655712


@pytest.mark.parametrize("arg,why", [
    ("0x1234", "selector"),
    ("nothex", "not hex"),
    ("@/nonexistent/file", "cannot read"),
    ("0x7e01", "deposit"),
    ("0x440a5e20" + "00" * 10, "164"),
])
def test_l1_info_bad_input(capsys, arg, why):
    assert why in fails(capsys, "l1-info", arg)


def test_tx_deposit(capsys):
    v = load("upgrade_transactions.json")["forks"]["ecotone"][2]
    got = ok(capsys, "tx", v["raw_tx"])
    assert list(got) == ["type", "hash", "nonce", "from", "to", "value", "gas", "data", "source_hash", "mint",
                         "is_system_tx"]
    assert got["type"] == 0x7E and got["hash"] == v["tx_hash"] and got["nonce"] is None
    assert got["from"] == checksum_address(from_hex(v["from"])) and got["to"] == v["to"]
    assert (got["gas"], got["value"], got["mint"], got["is_system_tx"]) == (50_000, 0, 0, False)
    assert got["data"] == v["data_hex"] and got["source_hash"] == v["source_hash"]


def test_tx_signed_l1_and_l2(capsys):
    fc = load("frames_channels.json")["vectors"][0]
    want = fc["expected"]["tx"]
    got = ok(capsys, "tx", f"@{ROOT / fc['input']['raw_tx']['file']}")
    assert list(got) == ["type", "hash", "nonce", "from", "to", "value", "gas", "data"]
    assert got["hash"] == want["tx_hash"] and got["type"] == want["type"] and got["nonce"] == want["nonce"]
    assert got["from"] == want["sender_recovered"] and got["to"].lower() == want["to"]
    assert (got["gas"], got["value"]) == (want["gas"], want["value"])
    assert len(from_hex(got["data"])) == want["calldata_len"]
    rebuilt = fc["expected"]["batches"][0]["span_batch"]["reconstructed_txs"]
    l2 = ok(capsys, "tx", rebuilt["first_tx_raw"])
    assert l2["hash"] == rebuilt["tx_hashes"][0] and l2["from"] == rebuilt["senders"][0]


@pytest.mark.parametrize("arg", ["0x", "0x05c0", "0x02c0", "0xf8"])
def test_tx_bad_input(capsys, arg):
    fails(capsys, "tx", arg)


def _log_json(v, **override) -> str:
    i = v["input"]
    entry = {"address": "0xbEb5Fc579115071764c7423A4f12eDde41f106Ed", "topics": i["topics"], "data": i["log_data"],
             "blockHash": i["l1_block_hash"], "logIndex": hex(i["log_index"]), "transactionHash": "0x" + "00" * 32}
    entry.update(override)
    return json.dumps(entry)


@pytest.mark.parametrize("v", load("user_deposits.json")["vectors"], ids=lambda v: v["name"][:40])
def test_deposit_log(capsys, v):
    got = ok(capsys, "deposit-log", _log_json(v))
    assert list(got) == ["source_hash", "from", "to", "mint", "value", "gas", "is_creation", "data", "raw", "hash"]
    c = v["computed_result"]
    assert got["raw"] == c["raw_tx"] and got["hash"] == c["tx_hash"] and got["source_hash"] == c["source_hash"]
    d = c["decoded"]
    assert got["from"] == d["from"] and got["is_creation"] == d["is_creation"]
    assert got["to"] == (None if d["is_creation"] else d["to"])
    assert (got["mint"], got["value"], got["gas"], got["data"]) == (d["mint"], d["value"], d["gas"], d["data"])


def test_deposit_log_from_file_and_stdin(capsys, tmp_path, monkeypatch):
    v = load("user_deposits.json")["vectors"][2]
    (tmp_path / "log.json").write_text(_log_json(v))
    a = ok(capsys, "deposit-log", f"@{tmp_path / 'log.json'}")
    b = ok(capsys, "deposit-log", "-", stdin=_log_json(v).encode(), monkeypatch=monkeypatch)
    assert a == b and a["gas"] == 100_000


def test_deposit_log_bad_input(capsys):
    v = load("user_deposits.json")["vectors"][0]
    assert "not JSON" in fails(capsys, "deposit-log", "{nope")
    assert "object" in fails(capsys, "deposit-log", "[1]")
    assert "blockHash" in fails(capsys, "deposit-log", json.dumps({"address": "0x" + "00" * 20, "topics": [],
                                                                   "data": "0x", "logIndex": 0}))
    assert "4 topics" in fails(capsys, "deposit-log", _log_json(v, topics=v["input"]["topics"][:3]))
    assert "version" in fails(capsys, "deposit-log", _log_json(v, topics=v["input"]["topics"][:3] + ["0x" + "00" * 31
                                                                                                     + "01"]))
    fails(capsys, "deposit-log", _log_json(v, data=v["input"]["log_data"][:-2]))
    fails(capsys, "deposit-log", _log_json(v, logIndex="0xzz"))
    fails(capsys, "deposit-log", _log_json(v, topics="0x00"))


@pytest.mark.parametrize("fork", ["ecotone", "fjord", "isthmus", "jovian"])
def test_upgrade_txs(capsys, fork):
    got = ok(capsys, "upgrade-txs", fork)
    want = load("upgrade_transactions.json")["forks"][fork]
    assert got["fork"] == fork and "bundle" not in got
    deps = got["deposits"]
    assert [list(g) for g in deps] == [["intent", "source_hash", "from", "to", "gas", "raw", "hash"]] * len(want)
    for g, w in zip(deps, want, strict=True):
        assert (g["intent"], g["source_hash"], g["gas"], g["raw"], g["hash"]) == (
            w["intent"], w["source_hash"], w["gas"], w["raw_tx"], w["tx_hash"])
        assert g["from"] == checksum_address(from_hex(w["from"]))
        assert g["to"] == (None if w["to"] is None else checksum_address(from_hex(w["to"])))


def test_upgrade_txs_karst_on_op_sepolia(capsys):
    k = load("nut_bundles.json")["karst"]
    got = ok(capsys, "upgrade-txs", "--fork", "karst", "--network", "op-sepolia")
    assert got["bundle"]["sha256"] == k["sha256"]
    assert len(got["deposits"]) == k["tx_count"] and got["upgrade_gas"] == k["upgrade_gas"]
    assert got["deposits"][-1]["intent"] == "Karst 30: L2ProxyAdmin Upgrade Predeploys"
    assert all(d["source_hash"].startswith("0x") and d["raw"].startswith("0x7e") for d in got["deposits"])
    # OP Sepolia: karst_time 1781712001, 2 s blocks from 1691802540 -> the block at 1781712002 (registry times).
    assert got["activation"] == {"timestamp": 1781712002, "block": (1781712002 - 1691802540) // 2}
    assert got["keep_karst_upgrade_gas"] is True
    assert got["activation_gas_limit"] == got["next_block_gas_limit"] == "system config gas limit + 55370657"
    ex = k["activation_gas_limit_example"]
    got = ok(capsys, "upgrade-txs", "karst", "--system-gas-limit", str(ex["system_config_gas_limit"]))
    assert got["activation_gas_limit"] == ex["activation_block_gas_limit"]
    assert got["next_block_gas_limit"] == ex["system_config_gas_limit"] and got["keep_karst_upgrade_gas"] is None


def test_upgrade_txs_lagoon_is_wrapped_for_op_and_unichain(capsys):
    lag = load("nut_bundles.json")["lagoon"]
    got = ok(capsys, "upgrade-txs", "--fork", "lagoon", "--network", "op-mainnet")
    assert got["bundle"]["sha256"] == lag["sha256"] and got["bundle"]["transactions"] == 29
    assert got["wrappers"] is True and got["dependency_set"] == [10, 130]
    deps = got["deposits"]
    assert deps[0]["intent"] == "Interop pre: setFeature(INTEROP)" and deps[1]["intent"] == lag["first_intent"]
    assert deps[-1]["intent"] == "Interop post: ETHLiquidity Funding" and deps[-1]["mint"] == deps[-1]["value"] == 2**128 - 1
    alone = ok(capsys, "upgrade-txs", "interop")
    assert alone["wrappers"] is False and len(alone["deposits"]) == len(deps) - 2
    assert alone["upgrade_gas"] == got["upgrade_gas"]  # the wrappers' gas is reserved either way


def test_upgrade_txs_other_forks(capsys):
    assert ok(capsys, "upgrade-txs", "Holocene")["deposits"] == []
    assert "unknown fork" in fails(capsys, "upgrade-txs", "shanghai")
    assert "give the fork once" in fails(capsys, "upgrade-txs")
    assert "unknown network" in fails(capsys, "upgrade-txs", "karst", "--network", "nope")
