"""``opnode node`` flags: every flag and its OP_NODE_* variable, precedence flag > env > default, op-node's value
syntax, grouped help, and one-line errors with exit code 2 for bad values, unknown and missing flags."""

from __future__ import annotations

import json
import os

import click
import pytest
from click.testing import CliRunner

from derivation.protocol.rollup_config import Fork
from opnode.cli import cli, main, route
from opnode.node import flag_types as T
from opnode.node import flags as F
from opnode.node.config import node_config_from
from opnode.node.flag_options import NodeCommand, node_options
from opnode.node.networks import network_json
from tests.vectors import ROOT

DEPSET = str(ROOT / "dependency_set_example.json")  # op-node's format, chains 901 and 902

SEEN: list = []


@click.command("node-flags-test", cls=NodeCommand)
@node_options
def node_cmd(**kwargs):
    """Parse the node flags and keep the config (the real `opnode node` runs the node instead)."""
    SEEN.append(node_config_from(kwargs))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for k in list(os.environ):
        if k.startswith("OP_NODE_"):
            monkeypatch.delenv(k)
    SEEN.clear()


@pytest.fixture
def files(tmp_path):
    """A rollup config with only Regolith scheduled (every --override.* alone is then valid, no beacon needed),
    a JWT secret, and an L1 chain config."""
    rollup = network_json("op-sepolia")
    for k in [k for k in rollup if k.endswith("_time") and k not in ("regolith_time", "block_time")]:
        del rollup[k]
    rollup.pop("pectra_blob_schedule_time", None)
    (tmp_path / "rollup.json").write_text(json.dumps(rollup))
    (tmp_path / "jwt.hex").write_text("0x" + "ab" * 32 + "\n")
    (tmp_path / "l1.json").write_text(json.dumps({"config": {"chainId": 11155111, "cancunTime": 0}}))
    return tmp_path


def base(files) -> list[str]:
    return ["--rollup.config", str(files / "rollup.json"), "--l1", "http://l1:8545", "--l2", "http://l2:8551",
            "--l2.jwt-secret", str(files / "jwt.hex")]


def parse(args, env=None):
    SEEN.clear()
    r = CliRunner().invoke(node_cmd, args, env=env or {}, catch_exceptions=False, standalone_mode=False)
    assert r.exit_code == 0, r.output
    return SEEN[-1]


PEER_A = "/ip4/1.2.3.4/tcp/9222/p2p/16Uiu2HAmEWQnHq2jLKJypwVnVoQeFCULuyop6atvq2eWjYSUjzNi"
PEER_B = "/ip4/5.6.7.8/tcp/9222/p2p/16Uiu2HAmEWQnHq2jLKJypwVnVoQeFCULuyop6atvq2eWjYSUjzNi"
ENODE_A = ("enode://1b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f70beaf8f588b541507fed6a642c5ab42"
           "dfdf8120a7f639de5122d47a69a8e8d1@1.2.3.4:30303")  # secp256k1 public key of 0x01 * 32
ENODE_B = ("enode://4d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d07662a3eada2d0fe208b6d257ceb0f064284"
           "662e857f57b66b54c198bd310ded36d0@5.6.7.8:30303")  # of 0x02 * 32
SPECIAL = {  # flags whose samples need a particular shape: (sample, other sample)
    "l1": ("http://a:1", "http://b:2"), "l2": ("http://a:1", "http://b:2"),
    "l1.beacon-header": ("X-A: 1", "X-B: 2"), "l2.follow.source": ("http://src:9545", "http://src2:9545/10"),
    "l1.rpc-max-batch-size": ("7", "9"), "l1.max-concurrency": ("3", "4"),
    "p2p.peers.lo": ("5", "6"), "rpc.port": ("0", "1234"), "metrics.port": ("0", "1234"),
    # the p2p values are checked when the flags are parsed (p2p.config.P2PConfig.from_flags)
    **{f"p2p.{n}": ("9300", "9301") for n in ("listen.tcp", "listen.udp", "advertise.tcp", "advertise.udp")},
    **{f"p2p.{n}": ("127.0.0.1", "10.0.0.1") for n in ("listen.ip", "advertise.ip")},
    **{f"p2p.{n}": ("11" * 32, "22" * 32) for n in ("priv.raw", "sequencer.key")},
    "p2p.static": (PEER_A, PEER_B), "p2p.bootnodes": (ENODE_A, ENODE_B),
    "p2p.netrestrict": ("10.0.0.0/8,192.168.0.0/16", "172.16.0.0/12"), "p2p.peerstore.path": ("memory", "peers.db"),
}
SKIP = {  # covered by their own tests below
    "network", "rollup.config", "rollup.l1-chain-config", "l2.jwt-secret", "l2.engine-sync",
    "interop.dependency-set",
    # refused with any value but their default: tests/node/test_flags_op_node.py
    *(f.name for f in F.FLAGS if f.refuse),
}


def samples(f: F.Flag) -> tuple[str, str]:
    if f.name in SPECIAL:
        return SPECIAL[f.name]
    t = f.type
    if isinstance(t, T.GoBool):
        return ("false", "true") if f.default else ("true", "false")
    if isinstance(t, T.Duration):
        return "7s", "1m30s"
    if isinstance(t, T.GoInt):
        return (str(1_900_000_000), str(1_950_000_000)) if f.name.startswith("override.") else \
            (str((f.default or 0) + 1), str((f.default or 0) + 2))
    if isinstance(t, T.GoFloat):
        return str(f.default + 1.5), str(f.default + 2.5)
    if isinstance(t, T.Choice):
        others = [c for c in t.choices if c != f.default]
        return others[0], (others[1] if len(others) > 1 else f.default)
    if isinstance(t, T.StringList):
        return "a,b", "c"
    return f"{f.name}-a", f"{f.name}-b"


TESTED = [f for f in F.FLAGS if f.name not in SKIP]


BLOB_FORKS = {f"override.{f}" for f in ("ecotone", "fjord", "granite", "holocene", "isthmus", "jovian", "karst",
                                         "interop")}


CONTEXT = {  # what a flag needs around it to matter
    **{name: ["--l1.beacon.ignore"] for name in BLOB_FORKS},  # blobs need a beacon (or the ignore flag)
    "override.interop": ["--l1.beacon.ignore", "--interop.dependency-set", DEPSET],  # Lagoon needs a dependency set
    "l2.follow.source.rpc-timeout": ["--l2.follow.source", "http://src:9545"],
}


@pytest.mark.parametrize("f", TESTED, ids=lambda f: f.name)
def test_each_flag_and_its_env_var(files, f):
    args = base(files) + CONTEXT.get(f.name, [])
    default = parse(args)
    if f"--{f.name}" in args:  # a required flag: the base value makes way for the sample
        i = args.index(f"--{f.name}")
        args = args[:i] + args[i + 2:]
    a, b = samples(f)
    by_flag = parse(args + [f"--{f.name}={a}"])
    assert by_flag != default, f"--{f.name} has no effect on the config"
    if f.no_effect:
        assert any(f"--{f.name} " in n for n in by_flag.notices)
    for env in f.envvars:
        assert parse(args, env={env: a}) == by_flag, f"{env} differs from --{f.name}"
        # precedence: the flag beats the environment
        assert parse(args + [f"--{f.name}", a], env={env: b}) == by_flag
    for alias in f.aliases:
        assert parse(args + [f"--{alias}={a}"]) == by_flag


def test_every_flag_is_covered():
    assert {f.name for f in TESTED} | SKIP == set(F.BY_NAME)


def test_defaults_are_op_nodes(files):
    c = parse(base(files))
    assert (c.l1.http_poll_interval, c.l1.epoch_poll_interval, c.runtime_config_reload_interval) == (12, 384, 600)
    assert (c.l1.rpc_kind, c.l1.max_concurrency, c.l1.rpc_max_batch_size, c.l1.cache_size) == ("standard", 10, 20, 900)
    # --l2.enginekind: reth, op-node's default since 2026 (upstream op-node/flags/flags.go, July 2026)
    assert (c.l2.kind, c.l2.rpc_timeout, c.sync.mode, c.follow_source) == ("reth", 10, "consensus-layer", None)
    assert (c.sync.offset_el_safe, c.finality_lookback, c.finality_delay) == (0, 0, 64)
    assert (c.sequencer.l1_confs, c.sequencer.max_safe_lag, c.l1.verifier_l1_confs) == (4, 0, 0)
    assert (c.rpc.addr, c.rpc.port, c.rpc.enable_admin) == ("0.0.0.0", 9545, False)
    assert (c.metrics.enabled, c.metrics.addr, c.metrics.port) == (False, "0.0.0.0", 7300)
    assert (c.log.level, c.log.format, c.log.color) == ("info", "text", False)
    assert (c.p2p.listen_tcp, c.p2p.peers_lo, c.p2p.peers_hi, c.p2p.peers_grace, c.p2p.priv_path) == \
        (9222, 20, 30, 30, "opnode_p2p_priv.txt")
    assert c.safedb_path == "" and c.l2.jwt_secret == b"\xab" * 32 and c.notices == ()


def test_values_reach_the_right_fields(files):
    c = parse(base(files) + [
        "--l1.http-poll-interval=6m24s", "--l1.epoch-poll-interval", "1h2m3.5s", "--l1.rpckind", "ERIGON",
        "--l1.beacon", "http://beacon", "--l1.beacon-fallbacks", "http://f1,http://f2", "--l1.beacon-archiver",
        "http://f3", "--override.isthmus=0x10", "--override.lagoon", "2000000000", "--override.pectrablobschedule=5",
        "--interop.dependency-set", DEPSET,
        "--syncmode", "execution-layer", "--l2.follow.source", "http://sn:8545/11155420",
        "--l2.follow.source.rpc-timeout", "500ms", "--log.level", "EROR", "--log.format", "json",
        "--sequencer.enabled", "--sequencer.l1-confs", "0", "--p2p.static", PEER_A,
        "--p2p.static", PEER_B, "--l2.engine-rpc-timeout", "30s"])
    assert c.l1.http_poll_interval == 384 and c.l1.epoch_poll_interval == 3723.5 and c.l1.rpc_kind == "erigon"
    assert c.beacon.url == "http://beacon" and c.beacon.fallbacks == ("http://f1", "http://f2", "http://f3")
    assert c.rollup.fork_time(Fork.ISTHMUS) == 16 and c.rollup.fork_time(Fork.LAGOON) == 2_000_000_000
    assert c.rollup.pectra_blob_schedule_time == 5
    assert c.sync.el_sync
    assert c.follow_source.url == "http://sn:8545/11155420" and c.follow_source.rpc_timeout == 0.5
    assert c.log.level == "error" and c.log.format == "json"
    assert c.sequencer.enabled and c.sequencer.l1_confs == 0
    assert c.p2p.static_peers == (PEER_A, PEER_B)
    assert c.l2.rpc_timeout == 30


def test_a_websocket_l1_is_taken_as_given(files):
    assert parse(base(files) + ["--l1", "wss://l1.example:8546/v2/key"]).l1.rpc_url == "wss://l1.example:8546/v2/key"
    args = base(files)
    del args[args.index("--l1"):args.index("--l1") + 2]
    assert parse(args, env={"OP_NODE_L1_ETH_RPC": "ws://127.0.0.1:8546"}).l1.rpc_url == "ws://127.0.0.1:8546"


def test_env_lists_and_bools(files):
    c = parse(base(files), env={"OP_NODE_L1_BEACON_ARCHIVER": "http://x,http://y", "OP_NODE_L1_TRUST_RPC": "True",
                                "OP_NODE_P2P_DISABLE": "1", "OP_NODE_SEQUENCER_ENABLED": "f"})
    assert c.beacon.fallbacks == ("http://x", "http://y") and c.l1.trust_rpc and c.p2p.disabled
    assert not c.sequencer.enabled


def test_network_and_builtin_l1_chain_config(files):
    c = parse(["--network", "op-sepolia", "--l1", "http://l1", "--l2", "http://l2", "--l2.jwt-secret",
               str(files / "jwt.hex"), "--l1.beacon", "http://b"])
    assert c.network == "op-sepolia" and c.rollup.l2_chain_id == 11155420 and c.l1_chain_config.chain_id == 11155111
    env = {"OP_NODE_NETWORK": "op-mainnet", "OP_NODE_L1_ETH_RPC": "http://l1", "OP_NODE_L2_ENGINE_RPC": "http://l2",
           "OP_NODE_L2_ENGINE_AUTH": str(files / "jwt.hex"), "OP_NODE_L1_BEACON": "http://b"}
    c = parse([], env=env)
    assert c.rollup.l2_chain_id == 10 and c.l1.rpc_url == "http://l1"
    c = parse(base(files) + ["--rollup.l1-chain-config", str(files / "l1.json")])
    assert any("--rollup.l1-chain-config ignored" in n for n in c.notices)


def test_custom_l1_needs_its_chain_config(files):
    rollup = json.loads((files / "rollup.json").read_text())
    rollup["l1_chain_id"] = 900
    (files / "rollup900.json").write_text(json.dumps(rollup))
    (files / "l1-900.json").write_text(json.dumps({"config": {"chainId": 900, "cancunTime": 0, "pragueTime": 10}}))
    args = ["--rollup.config", str(files / "rollup900.json"), "--l1", "http://l1", "--l2", "http://l2",
            "--l2.jwt-secret", str(files / "jwt.hex")]
    c = parse(args + ["--rollup.l1-chain-config", str(files / "l1-900.json")])
    assert c.l1_chain_config.chain_id == 900 and c.l1_chain_config.blob_fork_at(11).name == "prague"
    c = parse(args, env={"OP_NODE_ROLLUP_L1_CHAIN_CONFIG": str(files / "l1-900.json")})
    assert c.l1_chain_config.chain_id == 900


def test_jwt_secret_is_generated_when_missing(files):
    path = files / "new.jwt"
    c = parse(base(files)[:-1] + [str(path)])
    text = path.read_text().strip()
    assert len(bytes.fromhex(text.removeprefix("0x"))) == 32 and c.l2.jwt_secret.hex() == text.removeprefix("0x")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert any("generated a new JWT secret" in n for n in c.notices)
    assert parse(base(files)[:-1] + [str(path)]).l2.jwt_secret == c.l2.jwt_secret  # read back, not regenerated


def test_deprecated_engine_sync_means_execution_layer(files):
    c = parse(base(files) + ["--l2.engine-sync"])
    assert c.sync.el_sync and any("deprecated" in n for n in c.notices)


def test_grouped_help():
    r = CliRunner().invoke(node_cmd, ["--help"], terminal_width=200)
    text = r.output
    positions = [text.index(f"\n{cat}:\n") for cat in F.CATEGORIES]
    assert positions == sorted(positions)
    assert "--l1.http-poll-interval DURATION" in text and "default: 12s" in text
    assert "$OP_NODE_L1_HTTP_POLL_INTERVAL" in text
    assert "--l1.beacon-fallbacks, --l1.beacon-archiver LIST" in text
    assert "--sequencer.enabled[=BOOL]" in text
    for hidden in ("--heartbeat.enabled", "--p2p.gossip.mesh.d ", "--snapshotlog.file", "--p2p.priv.raw"):
        assert hidden not in text


# ------------------------------------------------------------------------------------------------ errors


@pytest.fixture
def run_cli(capsys):
    cli.add_command(node_cmd)

    def run(args, env=None):
        old = dict(os.environ)
        os.environ.update(env or {})
        try:
            with pytest.raises(SystemExit) as e:
                main(["node-flags-test", *args])
        finally:
            os.environ.clear()
            os.environ.update(old)
        out = capsys.readouterr()
        return e.value.code, out.err

    yield run
    cli.commands.pop("node-flags-test", None)


def test_good_flags_exit_zero_through_the_cli(run_cli, files):
    code, err = run_cli(base(files))
    assert code == 0 and err == ""


@pytest.mark.parametrize("extra,message", [
    (["--l1.trust"], "No such option '--l1.trust'. Did you mean '--l1.trustrpc'?"),
    (["--l1.http-poll-interval", "12"], "missing unit in duration"),
    (["--l1.http-poll-interval", "soon"], "invalid duration"),
    (["--l1.trustrpc=yes"], "is not a boolean"),
    (["--verifier.l1-confs", "-1"], "is not an unsigned integer"),
    (["--l1.max-concurrency", "ten"], "is not an integer"),
    (["--override.isthmus", str(1 << 64)], "out of range"),
    (["--l1.rpckind", "magic"], "is not one of"),
    (["--syncmode", "fast"], "is not one of consensus-layer, execution-layer"),
    (["--log.level", "loud"], "is not one of"),
    (["--rpc.port", "70000"], "--rpc.port must be a port number"),
    (["--l1.rpc-max-batch-size", "501"], "between 1 and 500"),
    (["--l1.beacon-header", "nocolon"], "Name: value"),
    (["--conductor.enabled"], "op-conductor is not supported"),
    (["--l2.engine-sync", "--syncmode", "execution-layer"], "cannot set both --l2.engine-sync and --syncmode"),
    (["--syncmode.req-resp", "--p2p.sync.req-resp=false"], "cannot set --p2p.sync.req-resp=false"),
    (["--l2.follow.source", "http://x", "--safedb.path", "/tmp/x"], "cannot be used with --l2.follow.source"),
    (["--network", "op-sepolia"], "exactly one of --network and --rollup.config"),
    (["--override.delta", "100", "--override.canyon", "200"], "delta_time (100) is before canyon_time (200)"),
    (["--l2.follow.source=http://x", "--l2.follow.source.rpc-timeout", "0s"], "must be a positive duration"),
    (["--l2.engine-rpc-timeout", "-1s"], "--l2.engine-rpc-timeout must be a positive duration"),
    (["--p2p.peers.lo", "40"], "--p2p.peers.lo must not be above --p2p.peers.hi"),
    (["--l1", "ws://"], "--l1: 'ws://' has no host"),
    (["--l1", "wss//l1.example:8546"], "the scheme must be one of http, https, ws, wss"),
    (["--l1", "ws://127.0.0.1:85460"], "--l1: 'ws://127.0.0.1:85460' is not a valid URL"),
    (["--l1", "ftp://l1.example"], "is not a JSON-RPC URL"),
    (["--l2.enginekind", "nethermind"], "is not one of geth, reth, erigon"),
    (["--syncmode", "execution-layer", "--syncmode.offset-el-safe", "-5s"], "--syncmode.offset-el-safe must be >= 0"),
])
def test_bad_values_are_one_line_errors(run_cli, files, extra, message):
    code, err = run_cli(base(files) + extra)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("opnode: error: "), err
    assert message in err


@pytest.mark.parametrize("drop,message", [
    ("--l1", "flag --l1 / OP_NODE_L1_ETH_RPC is required"),
    ("--l2", "flag --l2 / OP_NODE_L2_ENGINE_RPC is required"),
    ("--l2.jwt-secret", "flag --l2.jwt-secret / OP_NODE_L2_ENGINE_AUTH is required"),
    ("--rollup.config", "exactly one of --network and --rollup.config is required"),
])
def test_missing_required_flags(run_cli, files, drop, message):
    args = base(files)
    i = args.index(drop)
    code, err = run_cli(args[:i] + args[i + 2:])
    assert code == 2 and err.count("\n") == 1 and message in err


def test_bad_files_are_one_line_errors(run_cli, files):
    (files / "bad.jwt").write_text("0x1234")
    code, err = run_cli(base(files)[:-1] + [str(files / "bad.jwt")])
    assert code == 2 and "must be 32 bytes" in err and err.count("\n") == 1
    code, err = run_cli(["--rollup.config", str(files / "nope.json")] + base(files)[2:])
    assert code == 2 and "cannot read rollup config" in err
    (files / "broken.json").write_text("{")
    code, err = run_cli(["--rollup.config", str(files / "broken.json")] + base(files)[2:])
    assert code == 2 and "not valid JSON" in err and err.count("\n") == 1


def test_ecotone_chain_needs_a_beacon_or_the_ignore_flag(run_cli, files):
    args = ["--network", "op-sepolia", "--l1", "http://l1", "--l2", "http://l2", "--l2.jwt-secret",
            str(files / "jwt.hex")]
    code, err = run_cli(args)
    assert code == 2 and "--l1.beacon is required" in err
    assert run_cli(args + ["--l1.beacon.ignore"])[0] == 0
    assert run_cli(args, env={"OP_NODE_L1_BEACON": "http://beacon"})[0] == 0


def test_a_light_node_needs_no_beacon(run_cli, files):
    """The README's light-node command: a node following a source derives nothing, so reads no blobs."""
    args = ["--network", "op-sepolia", "--l1", "http://l1", "--l2", "http://l2", "--l2.jwt-secret",
            str(files / "jwt.hex"), "--l2.follow.source", "http://source:9545"]
    assert run_cli(args)[0] == 0


def test_custom_l1_without_chain_config_and_mismatch(run_cli, files):
    rollup = json.loads((files / "rollup.json").read_text())
    rollup["l1_chain_id"] = 900
    (files / "rollup900.json").write_text(json.dumps(rollup))
    args = ["--rollup.config", str(files / "rollup900.json")] + base(files)[2:]
    code, err = run_cli(args)
    assert code == 2 and "--rollup.l1-chain-config is required: L1 chain 900" in err
    code, err = run_cli(args + ["--rollup.l1-chain-config", str(files / "l1.json")])
    assert code == 2 and "chain id 11155111 does not match" in err


def test_duration_syntax():
    assert T.parse_duration("6m24s") == 384 and T.parse_duration("1.5h") == 5400
    assert T.parse_duration("250ms") == 0.25 and T.parse_duration("0") == 0 and T.parse_duration("-1s") == -1
    assert T.parse_duration("1h2m3s4ms") == pytest.approx(3723.004)
    for bad in ("", "1", "1x", "s", "1s2", "--1s"):
        with pytest.raises(ValueError):
            T.parse_duration(bad)
    assert [T.format_duration(x) for x in (12, 384, 600, 3600, 0.5, 0)] == ["12s", "6m24s", "10m0s", "1h0m0s",
                                                                          "500ms", "0s"]


def test_p2p_flags_reach_the_gossip_service(files):
    """The node's configuration holds the gossip service's one P2P configuration, parsed from its ``--p2p.*`` flags
    (regression: peers and mesh settings were parsed but not passed on)."""
    from p2p.config import P2PConfig

    c = parse(base(files) + ["--p2p.listen.ip", "127.0.0.1", "--p2p.listen.tcp", "0", "--p2p.peers.lo", "2",
                             "--p2p.peers.hi", "5", "--p2p.gossip.mesh.d", "4", "--p2p.gossip.mesh.lo", "3",
                             "--p2p.gossip.mesh.dhi", "7", "--p2p.gossip.mesh.floodpublish"])
    p = c.p2p
    assert type(p) is P2PConfig
    assert (p.listen_ip, p.listen_tcp, p.peers_lo, p.peers_hi) == ("127.0.0.1", 0, 2, 5)
    assert (p.mesh_d, p.mesh_d_lo, p.mesh_d_hi, p.flood_publish) == (4, 3, 7, True)
    d = parse(base(files)).p2p
    assert (d.peers_lo, d.peers_hi, d.mesh_d, d.mesh_d_lo, d.mesh_d_hi, d.flood_publish) == (20, 30, 8, 6, 12, False)


def test_interop_dependency_set_flag_env_and_the_lagoon_check(files, tmp_path):
    """op-node ``--interop.dependency-set`` (OP_NODE_INTEROP_DEPENDENCY_SET, flags.go @b5c39b26); op-node's
    config.Check refuses a scheduled Lagoon without a set. A bundled network brings its own set."""
    from derivation.protocol.rollup_config import DependencySet

    lagoon = base(files) + ["--l1.beacon.ignore", "--override.lagoon", "2000000000"]
    r = CliRunner().invoke(node_cmd, lagoon, env={}, standalone_mode=False)
    assert r.exit_code != 0 and "Lagoon upgrade is scheduled (lagoon_time = 2000000000)" in str(r.exception)
    assert "--interop.dependency-set" in str(r.exception)
    assert parse(lagoon + ["--interop.dependency-set", DEPSET]).rollup.dependency_set == DependencySet((901, 902))
    other = tmp_path / "other.json"
    other.write_text('{"dependencies": {"10": {}}}')
    assert parse(lagoon, env={"OP_NODE_INTEROP_DEPENDENCY_SET": DEPSET}).rollup.dependency_set.chain_ids == (901, 902)
    assert parse(lagoon + ["--interop.dependency-set", str(other)],
                 env={"OP_NODE_INTEROP_DEPENDENCY_SET": DEPSET}).rollup.dependency_set.chain_ids == (10,)
    bad = CliRunner().invoke(node_cmd, lagoon + ["--interop.dependency-set", str(tmp_path / "nope.json")], env={},
                             standalone_mode=False)
    assert "cannot read dependency set" in str(bad.exception)
    net = parse(["--network", "op-sepolia", "--l1", "http://l1", "--l2", "http://l2", "--l2.jwt-secret",
                 str(files / "jwt.hex"), "--l1.beacon.ignore"])
    assert net.rollup.dependency_set.chain_ids == (1301, 11155420)


def test_op_node_command_lines_run_the_node_without_a_subcommand(capsys, monkeypatch):
    """``op-node --l1=… --l2=…`` has no subcommand; neither does ``opnode`` with the same flags or an env file."""
    for argv in (["node", "--l1.trust"], ["--l1.trust"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2 and "No such option '--l1.trust'" in capsys.readouterr().err
    assert route([]) == [] and route(["--help"]) == ["--help"] and route(["replay", "run", "x"])[0] == "replay"
    monkeypatch.setenv("OP_NODE_L1_ETH_RPC", "http://l1")
    assert route([]) == ["node"]


def test_sealing_duration_of_zero_or_less_is_50ms(files):
    """op-node flags.go SequencerSealingDurationFlag: "If this is <= 0 it is automatically adjusted to 50ms"."""
    assert parse(base(files)).sequencer.sealing_duration == 0.05
    assert parse(base(files) + ["--sequencer.sealing-duration=0s"]).sequencer.sealing_duration == 0.05
    assert parse(base(files) + ["--sequencer.sealing-duration=200ms"]).sequencer.sealing_duration == 0.2


def test_el_sync_and_finality_flags_as_op_node(files):
    """op-node NewSyncConfig (2026): --syncmode.offset-el-safe is kept with execution-layer and ignored with a warning
    otherwise; op-node NewDriverConfig: --finality.delay given is used as is (0 too), 64 when not given."""
    el = parse(base(files) + ["--syncmode=execution-layer", "--syncmode.offset-el-safe=1h30m", "--l2.enginekind=GETH"])
    assert (el.sync.offset_el_safe, el.l2.kind, el.notices) == (5400, "geth", ())
    cl = parse(base(files) + ["--syncmode.offset-el-safe=1h30m"])
    assert cl.sync.offset_el_safe == 0
    assert [n for n in cl.notices if n.startswith("--syncmode.offset-el-safe is ineffective")], cl.notices
    assert parse(base(files) + ["--finality.delay=0"]).finality_delay == 0
    assert parse(base(files), env={"OP_NODE_FINALITY_DELAY": "8"}).finality_delay == 8
