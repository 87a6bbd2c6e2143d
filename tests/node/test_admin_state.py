"""--rpc.admin-state: op-node's file ({"sequencerStarted":bool}, op-node/config/config_persistence.go), written by
admin_startSequencer / admin_stopSequencer through the runtime's API and read back at the next start, where it wins
over --sequencer.stopped (op-node Config.LoadPersisted)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import click
import pytest

from opnode.jsonrpc.errors import RpcError
from opnode.node.admin_state import AdminState, AdminStateError
from opnode.node.rpc.server import RPCConfig
from opnode.node.runtime.api import RuntimeAPI
from opnode.node.runtime.sequencer import Sequencer
from tests.node.test_flags import base, clean_env, files, parse  # noqa: F401  (fixtures)

HEAD = b"\x11" * 32


def _runtime(files, state_path, *, active):  # noqa: F811
    cfg = parse(base(files) + ["--sequencer.enabled"])
    ctrl = SimpleNamespace(unsafe=SimpleNamespace(hash=HEAD, time=0))
    driver = SimpleNamespace(wake=lambda: None)
    seq = Sequencer(cfg.rollup, ctrl, None, driver, active=active)
    config = SimpleNamespace(fetch_withdrawal_root_from_state=False, rpc=RPCConfig(admin_state=str(state_path)))
    node = SimpleNamespace(cfg=cfg.rollup, l2_reader=None, safedb=None, p2p=None, config=config, sequencer=seq)
    return RuntimeAPI(node), seq


async def test_admin_calls_persist_and_the_next_start_obeys(files):  # noqa: F811
    path = files / "state" / "admin.json"
    api, seq = _runtime(files, path, active=True)
    assert await api.stop_sequencer() == HEAD
    assert path.read_bytes() == b'{"sequencerStarted":false}'
    args = base(files) + ["--sequencer.enabled", "--rpc.admin-state", str(path)]
    restarted = parse(args)
    assert restarted.sequencer.stopped and any("Overriding sequencer.stopped" in n for n in restarted.notices)
    await api.start_sequencer(HEAD)
    assert json.loads(path.read_text()) == {"sequencerStarted": True} and seq.active
    restarted = parse(args + ["--sequencer.stopped"])
    assert not restarted.sequencer.stopped  # the persisted state beats the flag, as op-node
    assert not parse(base(files) + ["--rpc.admin-state", str(path)]).sequencer.enabled  # not a sequencer: ignored


async def test_a_state_that_cannot_be_written_fails_the_call_and_keeps_the_old_state(files, tmp_path):  # noqa: F811
    blocker = tmp_path / "file"
    blocker.write_text("")
    api, seq = _runtime(files, blocker / "admin.json", active=True)
    with pytest.raises(RpcError, match="failed to notify sequencer state listener of stop"):
        await api.stop_sequencer()
    assert seq.active


def test_no_file_is_unset_and_a_foreign_file_is_refused(files):  # noqa: F811
    assert AdminState(str(files / "missing.json")).sequencer_started() is None
    bad = files / "bad.json"
    for text in ('{"sequencerStarted":true,"other":1}', "not json", '{"sequencerStarted":"yes"}'):
        bad.write_text(text)
        with pytest.raises(AdminStateError, match="invalid config file"):
            AdminState(str(bad)).sequencer_started()
    with pytest.raises(click.UsageError, match="--rpc.admin-state: invalid config file"):
        parse(base(files) + ["--sequencer.enabled", "--rpc.admin-state", str(bad)])
