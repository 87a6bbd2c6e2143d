"""op-node's helper subcommands: ``p2p genkey|priv2id|pub2id`` (op-node/cmd/p2p) and ``doc metrics`` (op-node/cmd/doc),
plus ``doc flags``."""

import io
import json

import pytest
from coincurve import PrivateKey
from libp2p.crypto.secp256k1 import create_new_key_pair
from libp2p.peer.id import ID

from opnode.cli import main
from opnode.node.flags import FLAGS
from opnode.node.metrics import Metrics


def _run(monkeypatch, capsys, argv, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit) as e:
        main(argv)
    out, err = capsys.readouterr()
    return e.value.code, out, err


def test_genkey_priv2id_and_pub2id_agree_with_libp2p(monkeypatch, capsys):
    code, out, _ = _run(monkeypatch, capsys, ["p2p", "genkey"])
    key = bytes.fromhex(out.strip())
    assert code == 0 and len(key) == 32
    want = ID.from_pubkey(create_new_key_pair(key).public_key).pretty()
    pub = PrivateKey(key).public_key
    for argv, stdin in ((["p2p", "priv2id"], "0x" + key.hex() + "\n"),
                        (["p2p", "pub2id"], pub.format(compressed=True).hex()),
                        (["p2p", "pub2id"], pub.format(compressed=False).hex())):
        code, out, _ = _run(monkeypatch, capsys, argv, stdin)
        assert (code, out.strip()) == (0, want)


@pytest.mark.parametrize("argv,stdin,message", [(["p2p", "priv2id"], "I am not hex.", "not formatted in hex"),
                                                (["p2p", "priv2id"], "00" * 31, "from 31 bytes"),
                                                (["p2p", "pub2id"], "02" + "00" * 10, "from 11 bytes")])
def test_bad_keys_are_one_line_errors(monkeypatch, capsys, argv, stdin, message):
    code, out, err = _run(monkeypatch, capsys, argv, stdin)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


def test_doc_metrics_lists_what_the_node_exports(monkeypatch, capsys):
    code, out, _ = _run(monkeypatch, capsys, ["doc", "metrics", "--format", "json"])
    docs = json.loads(out)
    exposition = Metrics().exposition().decode()
    typed = {line.split()[2] for line in exposition.splitlines() if line.startswith("# TYPE ")}
    assert code == 0 and len(docs) > 30
    for d in docs:  # every documented name is exported (a counter as name_total, its family name in # TYPE)
        assert d["name"] in typed or d["name"].removesuffix("_total") in typed, d["name"]
        assert d["help"] and d["type"] in ("counter", "gauge", "histogram", "summary", "info", "unknown")
    code, out, _ = _run(monkeypatch, capsys, ["doc", "metrics"])
    assert out.splitlines()[0] == "| Metric | Description | Labels | Type |" and len(out.splitlines()) == len(docs) + 2


def test_doc_flags_lists_every_flag_with_its_environment_variables(monkeypatch, capsys):
    code, out, _ = _run(monkeypatch, capsys, ["doc", "flags", "--format", "json"])
    docs = json.loads(out)
    assert code == 0 and [d["name"] for d in docs] == [f"--{f.name}" for f in FLAGS]
    assert all(e.startswith("OP_NODE_") for d in docs for e in d["env"])
    assert {d["status"] for d in docs} == {"implemented", "no-op", "refused"}
    refused = {d["name"] for d in docs if d["status"] == "refused"}
    assert {"--altda.enabled", "--conductor.enabled", "--signer.endpoint"} <= refused
