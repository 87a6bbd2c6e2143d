"""Real engine processes on 127.0.0.1: persistence across kill -9, block exchange by newPayload, EL sync."""

from __future__ import annotations

import time

import pytest

from engine.execution.chain import Chain
from engine.execution.store import Store
from opnode.testing.engine import addr, attrs, genesis, key, l1_info, transfer
from tests.engine.procs import EngineProc


@pytest.fixture
def procs(tmp_path):
    started: list[EngineProc] = []

    def make(name, *extra):
        p = EngineProc(tmp_path, name, *extra)
        started.append(p)
        return p

    yield make
    for p in started:
        p.stop()


def test_sqlite_store_reopens_with_the_same_head_and_state(tmp_path):
    c = Chain(genesis(), Store(str(tmp_path / "db")))
    h = c.head
    s = c.build(h.hash, attrs(h), [l1_info(), transfer(key(0), 0, addr(1), 777)])
    c.set_forkchoice(s.hash, s.hash)
    c.store.close()
    c2 = Chain(genesis(), Store(str(tmp_path / "db")))
    assert c2.head.hash == s.hash and c2.safe.hash == s.hash
    assert c2.account_db(c2.head).get_balance(addr(1)) == 10**24 + 777
    assert c2.block(s.hash).receipts[1].status == 1


def test_engine_survives_kill_9_with_the_acknowledged_head(procs, tmp_path):
    a = procs("a", "--datadir", str(tmp_path / "a-data")).start()
    for i in range(3):
        env = a.build([transfer(key(1), i - 1, addr(2), 1)] if i else [])
    head = env["executionPayload"]["blockHash"]
    a.kill9()
    a.start()
    assert a.head()["hash"] == head and a.rpc("eth_blockNumber", auth=False) == "0x3"
    assert int(a.rpc("eth_getBalance", "0x" + addr(2).hex(), "latest", auth=False), 16) == 10**24 + 2


def test_blocks_from_one_engine_import_into_another_and_el_sync(procs):
    a = procs("a").start()
    b = procs("b").start()
    envs = [a.build([transfer(key(3), 0, addr(4), 5)]), a.build(), a.build([transfer(key(3), 1, addr(4), 6)])]
    for env in envs:
        st = b.insert(env)
        assert st["status"] == "VALID" and st["latestValidHash"] == env["executionPayload"]["blockHash"]
    b.forkchoice(envs[-1]["executionPayload"]["blockHash"])
    for n in range(4):
        assert a.rpc("eth_getBlockByNumber", hex(n), False)["hash"] == b.rpc("eth_getBlockByNumber", hex(n), False)["hash"]
    # An engine that never saw these blocks reaches A's head by EL sync after an FCU to the unknown hash.
    c = procs("c", "--sync.peers", a.http).start()
    target = envs[-1]["executionPayload"]["blockHash"]
    first = c.forkchoice(target)
    assert first["payloadStatus"]["status"] == "SYNCING"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        st = c.forkchoice(target)["payloadStatus"]["status"]
        if st == "VALID":
            break
        time.sleep(0.2)
    assert st == "VALID"
    assert c.head()["hash"] == target and c.rpc("eth_blockNumber", auth=False) == "0x3"
    assert c.rpc("eth_getBalance", "0x" + addr(4).hex(), "latest") == a.rpc("eth_getBalance", "0x" + addr(4).hex(),
                                                                           "latest")


def test_new_payload_with_unknown_parent_syncs_its_ancestors(procs):
    a = procs("a").start()
    envs = [a.build([transfer(key(5), i, addr(6), 1)]) for i in range(3)]
    d = procs("d", "--sync.peers", a.http).start()
    st = d.insert(envs[-1])
    assert st["status"] == "SYNCING" and st["latestValidHash"] is None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and d.insert(envs[-1])["status"] != "VALID":
        time.sleep(0.2)
    assert d.insert(envs[-1])["status"] == "VALID"
    # newPayload does not move the head; the FCU that follows does
    assert d.head()["number"] == "0x0"
    assert d.forkchoice(envs[-1]["executionPayload"]["blockHash"])["payloadStatus"]["status"] == "VALID"
    assert d.rpc("eth_blockNumber", auth=False) == "0x3"
