"""Cross-chain traffic of ``opnode devnet --interop``: valid messages between the chains of the dependency set and,
with ``--faults``, invalid ones, each recorded with the block it landed in so the summary can check what became of it.

Valid (one per round, directions and kinds alternating): ``L2ToL2CrossDomainMessenger.sendMessage`` on the source
chain, then on the destination either its ``relayMessage`` or a direct ``CrossL2Inbox.validateMessage`` of the same
``SentMessage`` log, with the access list of :func:`derivation.interop.messages.access_list_entries` (the inbox only
checks that the checksum slot is warm; the supernode checks the message).

Invalid (``faults``; each executed with a matching access list, so the inbox emits ``ExecutingMessage`` and only the
supernode can tell): the rules of messaging.md §Invalid messages / derivation.md §Invariants, one each:

- ``wrong_log_index``: the identifier of a real log with ``logIndex + 1``;
- ``wrong_payload_hash``: a real identifier with another payload hash;
- ``future_timestamp``: a real identifier whose timestamp is an hour later than its block's;
- ``chain_not_in_set``: a real identifier naming chain 903;
- ``expired``: the first message sent, executed once it is older than the set's expiry window (a short
  ``overrideMessageExpiryWindow``);
- ``same_timestamp_cycle``: on each chain, at one future timestamp both chains share, a message pointing at the
  other chain's ``SentMessage`` of that timestamp, which comes after that chain's own executing message: each
  message exists and matches, the two depend on each other (cycles.py; :meth:`InteropTraffic._cycle`);
- ``depends_on_invalidated``: on the other chain, a correct message of the ``ExecutingMessage`` log that
  ``chain_not_in_set`` emitted: valid against the block as it was, invalid once that block is replaced.

The faults start once ``faults_after`` valid messages went through, in rounds (:meth:`InteropTraffic._faults`): each
invalid message alone in its block, each round's blocks replaced by the supernode before the next round. Valid
traffic pauses meanwhile (no valid message builds on a block about to be replaced), then goes on.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import trio

from derivation.interop.messages import Identifier, Message
from derivation.protocol.crypto import keccak256
from derivation.protocol.hexutil import from_hex, parse_quantity, to_hex
from derivation.protocol.predeploys import CROSS_L2_INBOX, L2_TO_L2_CROSS_DOMAIN_MESSENGER
from derivation.protocol.rollup_config import RollupConfig
from opnode.jsonrpc.client import RpcClient
from opnode.jsonrpc.errors import RpcError, TransportError
from opnode.tools.batcher.txmgr import SendError, TxCandidate, TxManager, TxReceipt
from opnode.tools.devnet.interop_calls import (
    MESSAGE_NONCE,
    SENT_MESSAGE_TOPIC,
    inbox_access_list,
    relay_message_data,
    send_message_data,
    sent_message_payload,
    validate_message_data,
)

log = logging.getLogger("opnode.tools.devnet.interop_traffic")

EXEC_GAS = 400_000
NOT_IN_SET = 903
CYCLE_ATTEMPTS = 3
FAULTS = ("wrong_log_index", "wrong_payload_hash", "future_timestamp", "chain_not_in_set", "expired",
          "same_timestamp_cycle", "depends_on_invalidated")


@dataclass(frozen=True, slots=True)
class InteropTrafficConfig:
    engines: dict[int, str]  # chain id -> its sequencer's engine (eth RPC): where transactions go
    configs: dict[int, RollupConfig]
    valid_key: bytes  # funded on every chain
    fault_key: bytes  # funded on every chain; its transactions are expected to be dropped by replacements
    activation: int  # the interop activation time the supernode verifies from
    expiry_window: int
    faults: bool = False
    interval: float = 2.0
    faults_after: int = 3
    fault_wait: float = 150.0
    # whether chain ``c``'s block ``n`` that had hash ``h`` is replaced at the source (supernode) and cross-safe
    replaced: Callable[[int, int, bytes], Awaitable[bool]] | None = None


@dataclass(frozen=True, slots=True)
class Initiated:
    chain_id: int
    identifier: Identifier
    payload: bytes  # topics ‖ data of the SentMessage log

    @property
    def message(self) -> Message:
        return Message(self.identifier, keccak256(self.payload))


@dataclass
class Executed:
    """One executing transaction and where it landed on the sequencer's chain."""

    kind: str  # relay / validate, or a fault name
    chain_id: int
    tx: bytes
    block_number: int | None = None
    block_hash: bytes | None = None
    status: int | None = None
    identifier: Identifier | None = None
    log_index: int | None = None  # the ExecutingMessage log's block-wide index
    em_payload: bytes | None = None  # that log's topics ‖ data

    def to_json(self) -> dict:
        return {"kind": self.kind, "chain_id": self.chain_id, "tx": to_hex(self.tx), "block_number": self.block_number,
                "block_hash": to_hex(self.block_hash) if self.block_hash else None, "status": self.status,
                "identifier": self.identifier.to_json() if self.identifier else None}


@dataclass
class InteropCounters:
    valid: list[Executed] = field(default_factory=list)
    invalid: list[Executed] = field(default_factory=list)
    initiated: int = 0
    errors: list[str] = field(default_factory=list)
    faults_replaced: bool | None = None  # None: no faults sent (yet)
    faults_done: bool = False  # no fault round is under way or coming: done, replaced in time or not

    def to_json(self) -> dict:
        return {"initiated": self.initiated, "valid": [e.to_json() for e in self.valid],
                "invalid": [e.to_json() for e in self.invalid], "errors": self.errors[-20:],
                "faults_replaced_in_time": self.faults_replaced}


def _log_payload(lg: dict) -> bytes:
    return b"".join(from_hex(t, 32) for t in lg["topics"]) + from_hex(lg["data"])


class InteropTraffic:
    def __init__(self, cfg: InteropTrafficConfig):
        if len(cfg.engines) < 2:
            raise ValueError("interop traffic needs two chains")
        self.cfg = cfg
        self.counters = InteropCounters()
        self.sent: list[Initiated] = []
        self.round = 0
        self.target = keccak256(b"opnode devnet relay target")[12:]

    def snapshot(self) -> dict:
        return self.counters.to_json()

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        cfg = self.cfg
        rpcs = {c: RpcClient(url) for c, url in cfg.engines.items()}
        try:
            self.rpc = rpcs
            self.valid = {c: TxManager(r, cfg.valid_key, min_tip=1) for c, r in rpcs.items()}
            self.bad = {c: TxManager(r, cfg.fault_key, min_tip=1) for c, r in rpcs.items()}
            task_status.started(self)
            await self._wait_for_activation()
            while True:
                if cfg.faults and self.counters.faults_replaced is None and \
                        len(self.counters.valid) >= cfg.faults_after:
                    try:
                        await self._faults()
                    finally:
                        self.counters.faults_done = True
                await self._guarded(self._valid_round)
                await trio.sleep(cfg.interval)
        finally:
            self.counters.faults_done = True  # (also when the traffic stopped: no round is coming)
            with trio.CancelScope(shield=True):
                for r in rpcs.values():
                    await r.aclose()

    async def _guarded(self, step) -> None:
        try:
            await step()
        except (TransportError, RpcError, SendError, trio.TooSlowError) as e:
            self.counters.errors.append(f"{type(e).__name__}: {e}")
            log.warning("interop traffic: %s", e)
            for m in (*self.valid.values(), *self.bad.values()):
                try:
                    await m.reset_nonce()
                except (TransportError, RpcError):
                    pass

    # -------------------------------------------------------------------------------------------- chain reads

    async def _head(self, chain_id: int) -> dict:
        return await self.rpc[chain_id].call("eth_getBlockByNumber", "latest", False)

    async def _head_times(self, chain_ids: list[int]) -> list[int]:
        return [parse_quantity((await self._head(c))["timestamp"]) for c in chain_ids]

    async def _block_time(self, chain_id: int, number: int) -> int:
        b = await self.rpc[chain_id].call("eth_getBlockByNumber", hex(number), False)
        return parse_quantity(b["timestamp"])

    async def _wait_for_activation(self) -> None:
        """Until every chain's head is two blocks past the activation block (no message from or in it)."""
        while True:
            times = await self._head_times(list(self.cfg.engines))
            if min(times) >= self.cfg.activation + 2 * max(cfg.block_time for cfg in self.cfg.configs.values()):
                return
            await trio.sleep(1)

    # -------------------------------------------------------------------------------------------- valid

    async def _initiate(self, src: int, dst: int) -> Initiated:
        payload = keccak256(b"opnode devnet message %d" % self.round)
        r = await self.valid[src].send_and_wait(TxCandidate(L2_TO_L2_CROSS_DOMAIN_MESSENGER, send_message_data(
            dst, self.target, payload), gas_limit=200_000), timeout=60)
        lg = next(lg for lg in r.logs if from_hex(lg["topics"][0], 32) == SENT_MESSAGE_TOPIC)
        ident = Identifier(L2_TO_L2_CROSS_DOMAIN_MESSENGER, r.block_number, parse_quantity(lg["logIndex"]),
                           await self._block_time(src, r.block_number), src)
        init = Initiated(src, ident, _log_payload(lg))
        self.sent.append(init)
        self.counters.initiated += 1
        return init

    async def _valid_round(self) -> None:
        ids = sorted(self.cfg.engines)
        src, dst = (ids[0], ids[1]) if self.round % 2 == 0 else (ids[1], ids[0])
        kind = "relay" if (self.round // 2) % 2 == 0 else "validate"
        self.round += 1
        init = await self._initiate(src, dst)
        data = (relay_message_data(init.identifier, init.payload) if kind == "relay"
                else validate_message_data(init.message))
        ex = await self._execute(self.valid[dst], dst, kind, data, init.message)
        if ex.status != 1:
            self.counters.errors.append(f"valid {kind} on chain {dst} reverted: {to_hex(ex.tx)}")
        self.counters.valid.append(ex)

    async def _execute(self, m: TxManager, chain_id: int, kind: str, data: bytes, message: Message,
                       timeout: float = 60) -> Executed:
        """Send one executing transaction (with the inbox access list of ``message``) and record its block."""
        to = L2_TO_L2_CROSS_DOMAIN_MESSENGER if kind == "relay" else CROSS_L2_INBOX
        c = TxCandidate(to, data, gas_limit=EXEC_GAS, access_list=tuple(
            (a, tuple(keys)) for a, keys in inbox_access_list(message)))
        p = await m.send(c)
        ex = Executed(kind, chain_id, p.hash, identifier=message.identifier)
        with trio.move_on_after(timeout):
            while True:
                r = await m.receipt(p)
                if r is not None:
                    self._landed(ex, r)
                    return ex
                await trio.sleep(0.2)
        self.counters.errors.append(f"{kind} on chain {chain_id} not included within {timeout}s")
        return ex

    @staticmethod
    def _landed(ex: Executed, r: TxReceipt) -> None:
        ex.tx, ex.block_number, ex.block_hash, ex.status = r.tx_hash, r.block_number, r.block_hash, r.status
        for lg in r.logs:
            if from_hex(lg["address"], 20) == CROSS_L2_INBOX:
                ex.log_index, ex.em_payload = parse_quantity(lg["logIndex"]), _log_payload(lg)

    # -------------------------------------------------------------------------------------------- faults

    async def _faults(self) -> None:
        """The faults in rounds, each invalid message alone in its block (one per chain and round), each round's
        blocks replaced before the next goes out: a replaced block takes every later block of its chain with it,
        and the verifier names one reason per block."""
        cfg = self.cfg
        self.counters.faults_replaced = False
        ids = sorted(cfg.engines)
        base = self.sent[-1]
        x, y = ids[0], ids[1]
        i, ph = base.identifier, base.message.payload_hash
        rounds = [
            {x: ("wrong_log_index", Message(dataclasses.replace(i, log_index=i.log_index + 1), ph)),
             y: ("wrong_payload_hash", Message(i, keccak256(b"opnode devnet: not the payload")))},
            {y: ("chain_not_in_set", Message(dataclasses.replace(i, chain_id=NOT_IN_SET), ph))},
            {x: ("future_timestamp", Message(dataclasses.replace(i, timestamp=i.timestamp + 3600), ph))},
        ]
        for r in rounds:
            sent = []
            for c, (name, msg) in r.items():
                await self.bad[c].reset_nonce()
                sent.append(await self._send_only(self.bad[c], c, name, msg))
            landed = []
            for mp, ex in sent:
                await self._wait_landed(mp, ex)
                self.counters.invalid.append(ex)
                landed.append(ex)
            victim = next((ex for ex in landed if ex.kind == "chain_not_in_set"), None)
            if victim is not None and victim.status == 1 and victim.em_payload is not None:
                # its ExecutingMessage log as an initiating message, executed on the other chain at once
                dep = Message(Identifier(CROSS_L2_INBOX, victim.block_number, victim.log_index,
                                         await self._block_time(y, victim.block_number), y),
                              keccak256(victim.em_payload))
                await self.bad[x].reset_nonce()
                landed.append(await self._execute(self.bad[x], x, "depends_on_invalidated",
                                                  validate_message_data(dep), dep))
                self.counters.invalid.append(landed[-1])
            if not await self._await_replacements(landed):
                return
        first = self.sent[0]
        while (parse_quantity((await self._head(y))["timestamp"]) - first.identifier.timestamp
               <= cfg.expiry_window + 2 * cfg.configs[y].block_time):
            await trio.sleep(0.5)
        await self.bad[y].reset_nonce()
        mp, ex = await self._send_only(self.bad[y], y, "expired", first.message)
        await self._wait_landed(mp, ex)
        self.counters.invalid.append(ex)
        if not await self._await_replacements([ex]):
            return
        for _ in range(CYCLE_ATTEMPTS):
            cycle, formed = await self._cycle(x, y)
            if not await self._await_replacements(cycle):
                return
            if formed:
                self.counters.faults_replaced = True
                return
        self.counters.errors.append(f"no same-timestamp cycle formed in {CYCLE_ATTEMPTS} attempts")

    async def _cycle(self, a: int, b: int) -> tuple[list[Executed], bool]:
        """A same-timestamp cycle whose messages are each valid on their own: in each chain's block at a common
        future timestamp ``t``, the fault sender's ``validateMessage`` (its ``ExecutingMessage`` is log 0) then its
        ``sendMessage`` (``SentMessage``, log 1, predicted exactly: ``messageNonce()`` just before). Each
        ``validateMessage`` names the other chain's log 1 with its payload, so existence and checksum hold, and
        each depends on the other chain's executing message before that log: a cycle (cycles.py), which only the
        cycle rule rejects. Sent while the blocks before ``t`` are being built; whether both pairs landed as planned
        (block at ``t``, logs 0 and 1) is a race with the sequencers, so a pair that did not is recorded as
        ``same_timestamp_cycle_missed`` (still invalid, for another rule) and the caller tries again."""
        cfg = self.cfg
        bt = max(c.block_time for c in cfg.configs.values())
        other = {a: b, b: a}
        body = b"opnode devnet cycle"
        sent_payload = {}
        for c in (a, b):
            nonce = await self.rpc[c].call("eth_call", {"to": to_hex(L2_TO_L2_CROSS_DOMAIN_MESSENGER),
                                                        "data": to_hex(MESSAGE_NONCE)}, "latest")
            sent_payload[c] = sent_message_payload(other[c], self.target, parse_quantity(nonce), self.bad[c].address,
                                                   body)
            await self.bad[c].reset_nonce()
        while True:  # a t both sequencers are still before: one that ran ahead while the other caught up re-plans
            t = max(await self._head_times([a, b])) + 2 * bt
            while min(times := await self._head_times([a, b])) < t - bt:
                await trio.sleep(0.1)
            if max(times) < t:
                break
        nums = {c: cfg.configs[c].genesis.l2.number + (t - cfg.configs[c].genesis.l2_time) // cfg.configs[c].block_time
                for c in (a, b)}
        msgs = {c: Message(Identifier(L2_TO_L2_CROSS_DOMAIN_MESSENGER, nums[other[c]], 1, t, other[c]),
                           keccak256(sent_payload[other[c]])) for c in (a, b)}
        sent, sends = [], []
        for c in (a, b):
            sent.append(await self._send_only(self.bad[c], c, "same_timestamp_cycle", msgs[c]))
            p = await self.bad[c].send(TxCandidate(L2_TO_L2_CROSS_DOMAIN_MESSENGER,
                                                   send_message_data(other[c], self.target, body), gas_limit=200_000))
            sends.append(((self.bad[c], p), Executed("send", c, p.hash)))
        for mp, ex in [*sent, *sends]:
            await self._wait_landed(mp, ex)
        formed = True
        for (_, ex), (mp, _) in zip(sent, sends, strict=True):
            m, p = mp
            r = await m.receipt(p)
            sent_index = next((parse_quantity(lg["logIndex"]) for lg in (r.logs if r else ())
                               if from_hex(lg["topics"][0], 32) == SENT_MESSAGE_TOPIC), None)
            if not (ex.block_number == nums[ex.chain_id] and ex.log_index == 0 and r is not None
                    and r.block_number == ex.block_number and sent_index == 1):
                formed = False
        for _, ex in sent:
            if not formed:
                ex.kind = "same_timestamp_cycle_missed"
            self.counters.invalid.append(ex)
        return [ex for _, ex in sent], formed

    async def _send_only(self, m: TxManager, chain_id: int, kind: str, message: Message):
        c = TxCandidate(CROSS_L2_INBOX, validate_message_data(message), gas_limit=EXEC_GAS, access_list=tuple(
            (a, tuple(keys)) for a, keys in inbox_access_list(message)))
        p = await m.send(c)
        return (m, p), Executed(kind, chain_id, p.hash, identifier=message.identifier)

    async def _wait_landed(self, mp, ex: Executed, timeout: float = 60) -> None:
        m, p = mp
        with trio.move_on_after(timeout):
            while True:
                r = await m.receipt(p)
                if r is not None:
                    self._landed(ex, r)
                    return
                await trio.sleep(0.2)
        self.counters.errors.append(f"{ex.kind} on chain {ex.chain_id} not included within {timeout}s")

    async def _adopted(self, chain_id: int, number: int, orig: bytes) -> bool:
        b = await self.rpc[chain_id].call("eth_getBlockByNumber", hex(number), False)
        return isinstance(b, dict) and from_hex(b["hash"], 32) != orig

    async def _await_replacements(self, executed: list[Executed]) -> bool:
        """Wait (bounded) until the source replaced every block these faults landed in."""
        if self.cfg.replaced is None:
            return True
        pending = {(e.chain_id, e.block_number, e.block_hash) for e in executed
                   if e.status == 1 and e.block_hash is not None}
        with trio.move_on_after(self.cfg.fault_wait):
            while pending:
                for key in list(pending):
                    try:
                        # replaced at the source, and adopted by the sequencer this traffic sends to (else its
                        # nonces would be read from the branch about to go)
                        if await self.cfg.replaced(*key) and await self._adopted(*key):
                            pending.discard(key)
                    except (TransportError, RpcError):
                        pass
                await trio.sleep(1)
            return True
        self.counters.errors.append(f"blocks not replaced within {self.cfg.fault_wait}s: "
                                    + ", ".join(f"{c}#{n}" for c, n, _ in sorted(pending)))
        return False
