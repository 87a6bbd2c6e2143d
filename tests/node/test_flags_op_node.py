"""The node's flags against op-node's own declarations (spec-vectors/op_node_flags.json, read out of op-node's Go
source by scripts/op_node_flags_vector.py): the same names, aliases, OP_NODE_* variables, hidden flags and literal
defaults; and, through the real parser, that op-node's variable name (not just ours) sets each flag and loses to
the flag."""

from __future__ import annotations

import json

import pytest

from opnode.node import flags as F
from opnode.node.flag_types import GoBool
from tests.node.test_flags import CONTEXT, SKIP, base, clean_env, files, parse, samples  # noqa: F401  (fixtures)
from tests.vectors import load

OP_NODE = load("op_node_flags.json")["flags"]

# Flags op-node removed before 2026 that opnode still accepts (without effect) so older command lines start.
REMOVED = {"rollup.halt", "rollup.load-protocol-versions", "supervisor"}
# Names and variables opnode reads beyond op-node's declaration: op-node v1.19.1 renamed Interop to Lagoon
# (ethereum-optimism/optimism #21105, #21370), later than the vector's commit.
EXTRA_ALIASES = {"override.interop": ["override.lagoon"]}
EXTRA_ENV = {"override.interop": ["OP_NODE_OVERRIDE_LAGOON"]}
SHARED = sorted(set(OP_NODE) & set(F.BY_NAME))


def test_every_op_node_flag_is_accepted_and_every_other_flag_is_one_op_node_removed():
    assert set(OP_NODE) - set(F.BY_NAME) == set()
    assert set(F.BY_NAME) - set(OP_NODE) == REMOVED
    assert all(F.BY_NAME[n].no_effect for n in REMOVED)


def test_the_vector_is_op_nodes_2026_surface():
    """The vector is the 2026 one (offset-el-safe of #19972, slot-duration-override of #20288), with op-node's
    rpcDefaults (0.0.0.0) and without what #20311 removed."""
    assert {"syncmode.offset-el-safe", "l1.beacon.slot-duration-override", "sequencer.sealing-duration",
            "finality.lookback", "p2p.gossip.timestamp.threshold", "signer.endpoint", "altda.enabled"} <= set(OP_NODE)
    assert OP_NODE["rpc.addr"]["default"] == "0.0.0.0" and F.BY_NAME["rpc.addr"].default == "0.0.0.0"
    assert not REMOVED & set(OP_NODE)


def test_every_flag_has_one_of_the_three_statuses():
    statuses = {f.name: f.status for f in F.FLAGS}
    assert set(statuses.values()) <= {"implemented", "no-op", "refused"}
    for f in F.FLAGS:
        assert not (f.no_effect and f.refuse), f.name
        if f.refuse:
            assert f.default in (False, "", (), None), f"{f.name}: its default must be the accepted value"


@pytest.mark.parametrize("name", SHARED)
def test_names_variables_aliases_and_visibility_are_op_nodes(name):
    ours, theirs = F.BY_NAME[name], OP_NODE[name]
    assert list(ours.envvars) == theirs["env"] + EXTRA_ENV.get(name, [])
    assert list(ours.aliases) == theirs["aliases"] + EXTRA_ALIASES.get(name, [])
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
REFUSED = [f for f in F.FLAGS if f.refuse]
NO_OP = [f for f in F.FLAGS if f.no_effect]


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


# ------------------------------------------------------------------ statuses through the real CLI (`opnode …`)


@pytest.fixture
def no_node(monkeypatch):
    """`opnode` parses, builds the config and logs its start-up notices; the node itself is not started."""
    import opnode.node.runtime.node as runtime

    started = []
    monkeypatch.setattr(runtime, "run_node", lambda cfg: started.append(cfg) or 0)
    return started


def _opnode(argv, capsys) -> tuple[int, list[str]]:
    from opnode.cli import main

    with pytest.raises(SystemExit) as e:
        main(argv)
    return e.value.code, [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]


REFUSED_SAMPLES = {"signer.endpoint": "http://signer:8080",
                   "interop.rpc.addr": "0.0.0.0"}


@pytest.mark.parametrize("f", REFUSED, ids=lambda f: f.name)
def test_a_refused_flag_is_one_line_and_exit_2_and_its_default_starts(files, no_node, capsys, f):  # noqa: F811
    value = REFUSED_SAMPLES.get(f.name, "true")
    code, err = _opnode(base(files) + [f"--{f.name}={value}"], capsys)
    assert code == 2 and len(err) == 1 and err[0].startswith("opnode: error: ") and f"--{f.name}" in err[0], err
    assert not no_node
    env = f.envvars[0]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(env, value)
        code, err = _opnode(base(files), capsys)
    assert code == 2 and f"--{f.name}" in err[0], f"{env} is refused too"
    default = "false" if isinstance(f.type, GoBool) else ""
    code, err = _opnode(base(files) + [f"--{f.name}={default}"], capsys)
    assert code == 0 and len(no_node) == 1, err


@pytest.mark.parametrize("f", NO_OP, ids=lambda f: f.name)
def test_a_no_op_flag_logs_one_warn_naming_it_at_start(files, no_node, capsys, f):  # noqa: F811
    a, _ = samples(f)
    code, err = _opnode(base(files) + ["--log.format=json", f"--{f.name}={a}"], capsys)
    assert code == 0 and len(no_node) == 1, err
    records = [json.loads(ln) for ln in err]
    naming = [r for r in records if f"--{f.name} " in r["msg"]]
    assert len(naming) == 1 and naming[0]["lvl"] == "warn", records


def test_an_op_node_source_node_command_line_starts(files, no_node, capsys):  # noqa: F811
    """A source node as OP Labs' docs configure op-node: EL sync on reth with safe and finalized 12h behind the
    synced tip, taken without a warning (issue 17: these flags work as op-node's)."""
    code, err = _opnode(base(files) + [
        "--l1.rpckind=basic", "--l1.trustrpc", "--syncmode=execution-layer", "--l2.enginekind=reth",
        "--rpc.addr=0.0.0.0", "--rpc.port=9545", "--rpc.enable-admin", "--metrics.enabled", "--p2p.disable",
        "--altda.enabled=false", "--conductor.enabled=false", "--safedb.path", str(files / "safedb"),
        "--syncmode.offset-el-safe=12h", "--log.format=json"], capsys)
    assert code == 0, err
    cfg = no_node[0]
    assert cfg.rpc.addr == "0.0.0.0" and cfg.sync.el_sync and cfg.l2.kind == "reth"
    assert cfg.sync.offset_el_safe == 12 * 3600
    warned = {r["msg"].split()[0] for r in map(json.loads, err) if r["lvl"] == "warn"}
    assert warned == set()
