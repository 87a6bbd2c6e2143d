"""Issue 17 acceptance: opnode starts with op-node command lines and env files taken from OP Labs' docs (the
node-operator tutorial, the specialized-topology notice, the create-l2-rollup example) and from op-node's own e2e
system (op-devstack): source nodes, light nodes and a sequencer following a source
(spec-vectors/op_node_command_lines.json, with provenance). Each starts through the real CLI (``op-node`` replaced
by ``opnode``, no subcommand) and every flag is accounted for: op-node declares it (spec-vectors/op_node_flags.json),
opnode accepts it with one of the three statuses, a no-op flag logs exactly one WARN naming it, nothing else warns."""

from __future__ import annotations

import json
import re

import pytest

from opnode.node import flags as F
from opnode.node.networks import network_json
from tests.vectors import load

VECTOR = load("op_node_command_lines.json")
OP_NODE_FLAGS = load("op_node_flags.json")["flags"]
ENV_TO_FLAG = {e: f.name for f in F.FLAGS for e in f.envvars}


def _fill(text: str, tmp) -> str:
    text = re.sub(r"\$([A-Z_][A-Z0-9_]*)", lambda m: VECTOR["vars"][m.group(1)], text)
    return text.replace("/workspace/", f"{tmp}/")


def _flag_names(argv: list[str], env: dict[str, str]) -> list[str]:
    names = [a[2:].split("=", 1)[0] for a in argv if a.startswith("--")]
    return names + [ENV_TO_FLAG.get(k, k) for k in env]


@pytest.mark.parametrize("case", VECTOR["cases"], ids=lambda c: c["name"])
def test_op_node_command_line_starts_and_every_flag_is_accounted_for(case, start, tmp_path, monkeypatch):
    assert case["argv"][0] == "op-node"
    monkeypatch.chdir(tmp_path)  # ./jwt.txt
    (tmp_path / "jwt.txt").write_text("0x" + "ab" * 32)
    # the chain's own rollup.json of the create-l2-rollup example: op-sepolia's, without the Lagoon (interop)
    # schedule, which would need a dependency set the example does not have
    rollup = {k: v for k, v in network_json("op-sepolia").items() if k != "lagoon_time"}
    (tmp_path / "rollup.json").write_text(json.dumps(rollup))
    argv = [_fill(a, tmp_path) for a in case["argv"][1:]]
    env = {k: _fill(v, tmp_path) for k, v in case["env"].items()}

    names = _flag_names(argv, env)
    assert set(names) <= set(OP_NODE_FLAGS), f"not op-node flags: {set(names) - set(OP_NODE_FLAGS)}"
    used = [F.BY_NAME[n] for n in names]  # every op-node flag is one of opnode's (test_flags_op_node checks all)
    assert all(f.status in ("implemented", "no-op", "refused") for f in used)
    assert not [f.name for f in used if f.refuse], "these command lines give refused flags only their defaults"

    s = start(argv, env)
    assert s.code == 0 and s.config is not None, s.err
    no_ops = sorted({f.name for f in used if f.no_effect})
    warned = sorted(w.split()[0].lstrip("-") for w in s.warnings)
    assert warned == no_ops, (warned, no_ops)

    c = s.config
    follows = c.follow_source.url if c.follow_source is not None else None
    role = case["role"]
    assert follows == (VECTOR["vars"]["SOURCE_RPC"] if role in ("light", "sequencer-follower") else None)
    assert c.sequencer.enabled == (role in ("sequencer", "sequencer-follower"))
    assert c.rollup.l2_chain_id == 11155420


def test_the_vector_has_each_role_from_docs_and_from_op_nodes_e2e():
    by_origin = {(c["name"].split("-")[0], c["role"]) for c in VECTOR["cases"]}
    assert {("docs", "source"), ("docs", "light"), ("docs", "sequencer-follower"), ("devstack", "source"),
            ("devstack", "light")} <= by_origin
    assert any(c["env"] and c["argv"] == ["op-node"] for c in VECTOR["cases"])  # an env-file-only light node
