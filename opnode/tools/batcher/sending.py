"""Step 5 of the batcher's loop (:mod:`opnode.tools.batcher.service`): the due channels' transactions sent in order
from the current batcher address's key, at most ``max_pending_tx`` in flight; receipts of those in flight polled, a
transaction not mined within ``resubmit_after`` resent with higher fees, and one whose nonce something else used
rewinds its channel.
"""

from __future__ import annotations

import logging

import trio

from derivation.protocol.types import BlockID
from opnode.tools.batcher.channels import BLOBS, Submission
from opnode.tools.batcher.faults import FaultKind
from opnode.tools.batcher.txmgr import NonceTooLow, SendError, TxManager, TxReceipt

log = logging.getLogger("opnode.tools.batcher")


class Sending:
    """Mixed into :class:`~opnode.tools.batcher.service.Batcher`, whose channels, managers, events and L1 head these
    methods use."""

    def _manager_of(self, s: Submission) -> TxManager:
        return self.managers[s.sender]

    async def _publish(self) -> None:
        signer = self.addresses.at(self.head.number)
        if signer != self.signer:
            self.signer = signer
            if signer not in self.managers:
                log.warning("the batcher is now 0x%s, whose key this batcher does not have: not posting",
                            signer.hex())
        m = self.managers.get(signer)
        if m is None:
            return
        hold = self._holding()
        flight = len(self.in_flight())
        for ch in self.cm.channels:
            for s in ch.submissions:
                if s.pending is not None:
                    continue
                if flight >= self.cfg.max_pending_tx:
                    return
                try:
                    s.pending = await m.send(self._candidate(s))
                except NonceTooLow as e:
                    log.info("%s: counting nonces again", e)
                    await m.reset_nonce()
                    return
                except SendError as e:
                    log.warning("could not send a batcher transaction: %s", e)
                    return
                s.sender = m.address
                flight += 1
                self.events.emit("tx_sent", tx=s.pending.hash, nonce=s.pending.nonce, channel=ch.id, da=s.da,
                                 frames=list(s.frames), garbage=s.garbage, sender=m.address)
            if ch is hold:
                return

    def _candidate(self, s: Submission):
        from opnode.tools.batcher.txmgr import TxCandidate

        inbox = self.rollup.batch_inbox_address
        if s.da == BLOBS:
            return TxCandidate(to=inbox, blobs=s.blobs())
        return TxCandidate(to=inbox, data=s.calldata())

    async def _poll_in_flight(self) -> None:
        flight = self.in_flight()
        if not flight:
            return
        by_sender: dict[bytes, list[Submission]] = {}
        for s in flight:
            by_sender.setdefault(s.sender, []).append(s)
        now = trio.current_time()
        for sender, subs in by_sender.items():
            m = self.managers[sender]
            for s in subs:
                r = await m.receipt(s.pending)
                if r is not None:
                    self._included(s, r)
                elif now - s.pending.sent_at > self.cfg.resubmit_after:
                    if not await m.in_pool(s.pending) and s.pending.nonce < await m.chain_nonce():
                        # the nonce was used by something else (a reorg replayed an older transaction)
                        await self._rewind(s.channel, "tx_dropped")
                        return
                    try:
                        await m.resend(s.pending)
                    except SendError as e:
                        log.warning("resubmitting 0x%s failed: %s", s.pending.hash.hex(), e)
                        continue
                    self.events.emit("tx_resubmitted", tx=s.pending.hash, nonce=s.pending.nonce,
                                     tip=s.pending.fees.tip, fee_cap=s.pending.fees.fee_cap,
                                     blob_fee_cap=s.pending.fees.blob_fee_cap)

    def _included(self, s: Submission, r: TxReceipt) -> None:
        s.included = BlockID(r.block_hash, r.block_number)
        ch = s.channel
        self.events.emit("tx_included", tx=r.tx_hash, l1_block=r.block_number, channel=ch.id, da=s.da,
                         frames=list(s.frames), garbage=s.garbage, fault=ch.fault.value if ch.fault else None)
        if ch.confirmed and ch.fault is FaultKind.TIMEOUT and ch.hold_until_l1 is None:
            opened = ch.inclusion_range()[0]
            ch.hold_until_l1 = opened + self.rollup.channel_timeout_at(self.head.time) + 1
            log.info("channel_timeout fault: holding back until L1 block %d", ch.hold_until_l1)
