"""``opnode supernode`` flags: op-supernode's own flags and the cloned per-chain op-node flags (--vn.<id>.X,
--vn.all.X, OP_SUPERNODE_VN_<ID|ALL>_<S>) with the precedence of op-supernode's VirtualCLI (flags/virtual_cli.go
@30e38b48): per-chain flag, per-chain env, all flag, all env. Bad input: one line, exit 2."""

import json
import os
import subprocess
import sys

import pytest

from opnode.commands.supernode import supernode_command
from opnode.node.networks import network_json


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for k in list(os.environ):
        if k.startswith(("OP_NODE_", "OP_SUPERNODE_")):
            monkeypatch.delenv(k)


@pytest.fixture
def files(tmp_path):
    """Rollup configs for chains 901 and 902 (op-sepolia's with only Regolith, so no beacon is needed), a JWT
    secret and a dependency set of both."""
    rollup = network_json("op-sepolia")
    for k in [k for k in rollup if k.endswith("_time") and k not in ("regolith_time", "block_time")]:
        del rollup[k]
    rollup.pop("pectra_blob_schedule_time", None)
    for cid in (901, 902):
        (tmp_path / f"rollup{cid}.json").write_text(json.dumps(dict(rollup, l2_chain_id=cid)))
    (tmp_path / "jwt.hex").write_text("0x" + "ab" * 32 + "\n")
    (tmp_path / "depset.json").write_text(json.dumps({"dependencies": {"901": {}, "902": {}},
                                                      "overrideMessageExpiryWindow": 60}))
    return tmp_path


def base(files):
    return ["--chains", "901,902", "--l1", "http://l1:8545", "--data-dir", str(files / "data"),
            "--dependency-set", str(files / "depset.json"), "--vn.all.l2.jwt-secret", str(files / "jwt.hex"),
            "--vn.901.rollup.config", str(files / "rollup901.json"), "--vn.902.rollup.config",
            str(files / "rollup902.json"), "--vn.901.l2", "http://e901:8551", "--vn.902.l2=http://e902:8551"]


def parse(args, env=None):
    from opnode.supernode.config import supernode_config_from

    ctx = supernode_command.make_context("supernode", list(args))
    own = dict(ctx.params)
    own["chains"] = tuple(x for part in own["chains"] for x in part)
    own["l1_beacon_fallbacks"] = tuple(x for part in own["l1_beacon_fallbacks"] for x in part)
    return supernode_config_from(own, ctx.args, env or {})


def test_per_chain_flags_and_shared_ones(files):
    c = parse(base(files))
    assert c.chain_ids == (901, 902)
    assert c.chains[901].l2.url == "http://e901:8551" and c.chains[902].l2.url == "http://e902:8551"
    assert c.chains[901].rollup.l2_chain_id == 901 and c.chains[902].rollup.l2_chain_id == 902
    assert all(ch.l1.rpc_url == "http://l1:8545" for ch in c.chains.values())
    assert c.chains[901].safedb_path == str(files / "data" / "901" / "safedb.sqlite")
    assert c.dependency_set.chain_ids == (901, 902) and c.dependency_set.message_expiry_window == 60
    assert c.chains[902].rollup.dependency_set == c.dependency_set
    assert c.activation_time is None  # no lagoon_time scheduled, none given
    assert c.rpc.port == 8545 and c.rpc.addr == "0.0.0.0"
    assert c.l1.cache_size == c.chains[901].rollup.seq_window_size == 3600  # op-sepolia's window, above 900


def test_precedence_chain_flag_chain_env_all_flag_all_env(files):
    args = base(files)
    env = {"OP_SUPERNODE_VN_ALL_L1_MAX_CONCURRENCY": "3"}
    assert parse(args, env).l1.max_concurrency == 3  # --vn.all.l1.* configure the one shared L1 client
    env = {"OP_SUPERNODE_VN_ALL_L2_ENGINE_RPC_TIMEOUT": "7s"}
    assert parse(args, env).chains[901].l2.rpc_timeout == 7.0
    env["OP_SUPERNODE_VN_901_L2_ENGINE_RPC_TIMEOUT"] = "5s"
    c = parse(args + ["--vn.all.l2.engine-rpc-timeout", "6s"], env)
    assert c.chains[901].l2.rpc_timeout == 5.0  # chain env beats the all flag
    assert c.chains[902].l2.rpc_timeout == 6.0  # all flag beats the all env
    c = parse(args + ["--vn.901.l2.engine-rpc-timeout", "4s"], env)
    assert c.chains[901].l2.rpc_timeout == 4.0


def test_environment_alone(files):
    env = {"OP_SUPERNODE_VN_901_L2_ENGINE_RPC": "http://env901", "OP_SUPERNODE_VN_ALL_L2_ENGINE_AUTH":
           str(files / "jwt.hex")}
    args = ["--chains", "901", "--l1", "http://l1", "--data-dir", str(files / "d"), "--vn.901.rollup.config",
            str(files / "rollup901.json")]
    c = parse(args, env)
    assert c.chains[901].l2.url == "http://env901" and c.dependency_set.chain_ids == (901,)


def test_activation_timestamp_flag(files):
    c = parse(base(files) + ["--interop.activation-timestamp", "1700000000"])
    assert c.activation_time == 1700000000


@pytest.mark.parametrize("extra,env,message", [
    (["--vn.901.nosuch", "1"], {}, "no op-node flag --nosuch"),
    (["--vn.903.l2", "x"], {}, "'903' is neither 'all' nor one of --chains"),
    (["--vn.all.safedb.path", "x"], {}, "set by the supernode"),
    (["--vn.901.l1", "x"], {}, "set by the supernode"),
    (["--bogus"], {}, "no such option: --bogus"),
    ([], {"OP_SUPERNODE_VN_901_NOPE": "1"}, "not a supernode per-chain setting"),
    (["--vn.901.l2.engine-rpc-timeout", "5"], {}, "missing unit in duration"),
    (["--vn.901.rollup.config", "/nonexistent.json"], {}, "cannot read rollup config"),
    (["--vn.901.sequencer.enabled"], {}, "derives from L1"),
])
def test_bad_input_is_one_line_exit_2(files, extra, env, message):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("OP_NODE_", "OP_SUPERNODE_"))}
    full_env.update(env)
    p = subprocess.run([sys.executable, "-m", "opnode", "supernode", *base(files), *extra], env=full_env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], p.stderr


def test_missing_engine_names_the_per_chain_flag(files):
    args = [a for a in base(files) if a not in ("--vn.902.l2=http://e902:8551",)]
    with pytest.raises(Exception) as e:
        parse(args)
    assert "--vn.902.l2 / OP_SUPERNODE_VN_902_L2_ENGINE_RPC is required" in str(e.value)


def test_chains_must_match_the_dependency_set(files):
    (files / "other.json").write_text(json.dumps({"dependencies": {"901": {}, "903": {}}}))
    args = [a if a != str(files / "depset.json") else str(files / "other.json") for a in base(files)]
    with pytest.raises(Exception) as e:
        parse(args)
    assert "not hosted [903], not in the set [902]" in str(e.value)


def test_rollup_config_of_another_chain_is_refused(files):
    args = [a if a != str(files / "rollup902.json") else str(files / "rollup901.json") for a in base(files)]
    with pytest.raises(Exception) as e:
        parse(args)
    assert "chain 902: its rollup config is for chain 901" in str(e.value)


def test_metrics_flags_and_per_chain_settings_without_effect_warn(files):
    c = parse([*base(files), "--metrics.enabled", "--metrics.port", "7301", "--vn.all.metrics.port", "9000",
               "--vn.901.rpc.port", "9545"], {"OP_SUPERNODE_VN_902_P2P_NO_DISCOVERY": "true"})
    assert c.metrics.enabled and c.metrics.port == 7301 and c.metrics.addr == "0.0.0.0"
    assert parse(base(files)).metrics.enabled is False and parse(base(files)).warnings == ()
    named = sorted(w.split(" has no effect")[0] for w in c.warnings)
    assert named == ["--vn.901.rpc.port", "--vn.all.metrics.port", "OP_SUPERNODE_VN_902_* for p2p.no-discovery"]
