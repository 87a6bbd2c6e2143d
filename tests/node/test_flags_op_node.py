"""The node's flags against op-node's own declarations (spec-vectors/op_node_flags.json, read out of op-node's Go
source by scripts/op_node_flags_vector.py): the same names, aliases, OP_NODE_* variables, hidden flags and literal
defaults; and, through the real parser, that op-node's variable name (not just ours) sets each flag and loses to
the flag."""

from __future__ import annotations

import pytest

from opnode.node import flags as F
from tests.node.test_flags import CONTEXT, SKIP, base, clean_env, files, parse, samples  # noqa: F401  (fixtures)
from tests.vectors import load

OP_NODE = load("op_node_flags.json")["flags"]

# Added to op-node after the vector's commit (Oct 2024); names and variables from the shared reference
# (op-node-interface.md, follow-and-rpc.md §1 and §5), which quotes the later op-node source.
LATER = {
    "fetch-withdrawal-root-from-state": ("OP_NODE_FETCH_WITHDRAWAL_ROOT_FROM_STATE",),
    # op-node/flags/flags.go InteropDependencySet (ethereum-optimism/optimism@b5c39b26, 2026-06-03)
    "interop.dependency-set": ("OP_NODE_INTEROP_DEPENDENCY_SET",),
    "l1.cache-size": ("OP_NODE_L1_CACHE_SIZE",),
    "l2.engine-rpc-timeout": ("OP_NODE_L2_ENGINE_RPC_TIMEOUT",),
    "l2.follow.source": ("OP_NODE_L2_FOLLOW_SOURCE",),
    "l2.follow.source.rpc-timeout": ("OP_NODE_L2_FOLLOW_SOURCE_RPC_TIMEOUT",),
    "override.interop": ("OP_NODE_OVERRIDE_INTEROP",),
    "override.isthmus": ("OP_NODE_OVERRIDE_ISTHMUS",),
    "override.jovian": ("OP_NODE_OVERRIDE_JOVIAN",),
    "override.karst": ("OP_NODE_OVERRIDE_KARST",),
    "override.pectrablobschedule": ("OP_NODE_OVERRIDE_PECTRABLOBSCHEDULE",),
    "rollup.l1-chain-config": ("OP_NODE_ROLLUP_L1_CHAIN_CONFIG",),
    "sequencer.recover": ("OP_NODE_SEQUENCER_RECOVER",),
    "syncmode.req-resp": ("OP_NODE_SYNCMODE_REQ_RESP",),
}
NOT_IMPLEMENTED = {"supervisor"}  # op-node's hidden interop supervisor endpoint (interop is out of scope)
SHARED = sorted(set(OP_NODE) & set(F.BY_NAME))


def test_every_op_node_flag_is_accepted_and_every_other_flag_is_a_later_op_node_flag():
    assert set(OP_NODE) - set(F.BY_NAME) == NOT_IMPLEMENTED
    assert set(F.BY_NAME) - set(OP_NODE) == set(LATER)
    for name, env in LATER.items():
        assert F.BY_NAME[name].envvars == env, name


@pytest.mark.parametrize("name", SHARED)
def test_names_variables_aliases_and_visibility_are_op_nodes(name):
    ours, theirs = F.BY_NAME[name], OP_NODE[name]
    assert list(ours.envvars) == theirs["env"]
    assert list(ours.aliases) == theirs["aliases"]
    assert ours.hidden == theirs["hidden"]


def _seconds_or_value(d):
    return d["seconds"] if isinstance(d, dict) else d


@pytest.mark.parametrize("name", [n for n in SHARED if OP_NODE[n]["default"] is not None])
def test_literal_defaults_are_op_nodes(name):
    ours, want = F.BY_NAME[name].default, _seconds_or_value(OP_NODE[name]["default"])
    if want in ("", [], False) and ours in (None, "", (), False):
        return  # Go's zero value: "not set"
    assert ours == want


# Flags whose samples need context the generic test supplies, or whose value is checked by their own tests.
ENV_CASES = [n for n in SHARED if n not in SKIP and OP_NODE[n]["env"]]


@pytest.mark.parametrize("name", ENV_CASES)
def test_op_nodes_variable_sets_the_flag_and_the_flag_wins(files, name):  # noqa: F811
    """Each variable name as op-node declares it, through the real parser: env > default, flag > env."""
    f = F.BY_NAME[name]
    args = base(files) + CONTEXT.get(name, [])
    if f"--{name}" in args:
        i = args.index(f"--{name}")
        args = args[:i] + args[i + 2:]
    a, b = samples(f)
    by_flag = parse(args + [f"--{name}={a}"])
    for env in OP_NODE[name]["env"]:
        assert parse(args, env={env: a}) == by_flag, env
        assert parse(args + [f"--{name}={a}"], env={env: b}) == by_flag, env


@pytest.mark.parametrize("flag,env,value", [
    ("network", "OP_NODE_NETWORK", "op-sepolia"),
    ("l2.jwt-secret", "OP_NODE_L2_ENGINE_AUTH", None),
])
def test_skipped_flags_env_and_precedence(files, flag, env, value):  # noqa: F811
    """The flags the generic test leaves to their own tests: op-node's variable works and the flag beats it."""
    other = files / "other.jwt"
    other.write_text("0x" + "cd" * 32)
    if flag == "network":
        rest = ["--l1", "http://l1", "--l2", "http://l2", "--l2.jwt-secret", str(files / "jwt.hex"),
                "--l1.beacon", "http://b"]
        by_env = parse(rest, env={env: value})
        assert by_env.rollup.l2_chain_id == 11155420
        assert parse(rest + ["--network", "op-mainnet"], env={env: value}).rollup.l2_chain_id == 10
    else:
        rest = base(files)[:-2]
        assert parse(rest, env={env: str(other)}).l2.jwt_secret == b"\xcd" * 32
        assert parse(rest + ["--l2.jwt-secret", str(files / "jwt.hex")], env={env: str(other)}).l2.jwt_secret == \
            b"\xab" * 32


def test_rollup_config_env_and_the_engine_sync_variable(files):  # noqa: F811
    rest = base(files)[2:]
    assert parse(rest, env={"OP_NODE_ROLLUP_CONFIG": str(files / "rollup.json")}).rollup.l2_chain_id == 11155420
    # op-node's deprecated --l2.engine-sync reads OP_NODE_L2_ENGINE_SYNC_ENABLED
    c = parse(base(files), env={"OP_NODE_L2_ENGINE_SYNC_ENABLED": "true"})
    assert c.sync.el_sync
