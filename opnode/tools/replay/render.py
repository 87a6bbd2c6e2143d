"""Output of ``opnode replay run`` and ``inspect``: text for people (rich) and the same content as JSON.

JSON conventions are those of ``opnode decode``: byte strings as 0x-hex, numbers as JSON numbers; payload
attributes in the Engine API shape.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from derivation.events import (
    BatchAccepted,
    BatchRead,
    ChannelReady,
    Dropped,
    EmptyBatchGenerated,
    Event,
    FramesRead,
    OriginAdvanced,
    PipelineReset,
    SystemConfigChanged,
)
from derivation.protocol.hexutil import to_hex
from derivation.protocol.transactions import DEPOSIT
from derivation.protocol.types import L1BlockRef
from opnode.tools.replay.compare import Outcome
from opnode.tools.replay.inspect import Mapping
from opnode.tools.replay.replayer import ReplayResult, Verdict
from opnode.tools.replay.session import DerivedBlock, TimelineItem
from opnode.tools.replay.store import Store


def _short(b: bytes) -> str:
    return "0x" + b.hex()[:10] + "…"


# ------------------------------------------------------------------------------------------------ JSON


def summary_json(store: Store, result: ReplayResult | None = None) -> dict:
    m = store.meta
    out = {"description": m.description, "created_by": m.created_by,
           "range": {"from_l1": m.from_l1, "to_l1": m.to_l1}, "start_safe_head": m.start.to_json(),
           "l1_chain_id": m.rollup.l1_chain_id, "l2_chain_id": m.rollup.l2_chain_id,
           "contents": {"l1_headers": len(store.l1_headers), "l1_blocks_by_number": len(store.l1_canonical),
                        "l1_transaction_lists": len(store.l1_txs), "l1_receipt_lists": len(store.l1_receipts),
                        "blobs": sum(len(b) for b in store.blobs.values()), "l2_blocks": len(store.l2)},
           "l1_tx_root": m.l1_tx_root, "sources": m.sources, "provenance": list(m.provenance)}
    if result is not None:
        base = next((e.l1 for e in result.session.timeline if isinstance(e, PipelineReset)), None)
        out["derivation_start_l1"] = None if base is None else base.number
    return out


def _diff_json(d: DerivedBlock) -> list[dict]:
    return [{"field": f.field, "derived": f.derived, "recorded": f.recorded, "detail": f.detail}
            for f in d.comparison.diffs]


def derived_json(d: DerivedBlock) -> dict:
    return {"type": "l2_block", "number": d.number, "parent": d.attributes.parent.to_json(),
            "derived_from": d.derived_from.to_json(), "is_last_in_span": d.attributes.is_last_in_span,
            "attributes": d.attributes.attributes.to_json(), "recorded_hash": to_hex(d.recorded.hash),
            "outcome": d.comparison.outcome.value, "diffs": _diff_json(d)}


def event_json(ev: TimelineItem) -> dict | None:
    if isinstance(ev, DerivedBlock):
        return derived_json(ev)
    if isinstance(ev, FramesRead):
        return {"type": "frames", "data_index": ev.tx_index,
                "frames": [{"channel_id": to_hex(c), "number": n, "size": s, "is_last": last}
                           for c, n, s, last in ev.frames]}
    if isinstance(ev, ChannelReady):
        return {"type": "channel_ready", "channel_id": to_hex(ev.channel_id), "frames": ev.frames, "size": ev.size,
                "opened_at": ev.opened_at}
    if isinstance(ev, BatchRead):
        return {"type": "batch_read", "batch_type": ev.batch_type, "timestamp": ev.timestamp, "blocks": ev.blocks,
                "txs": ev.txs, "size": ev.size, "channel_id": to_hex(ev.channel_id), "compression": ev.compression}
    if isinstance(ev, BatchAccepted):
        return {"type": "batch_accepted", "timestamp": ev.timestamp, "epoch": ev.epoch_num, "txs": ev.txs,
                "from_span": ev.from_span}
    if isinstance(ev, EmptyBatchGenerated):
        return {"type": "empty_batch", "timestamp": ev.timestamp, "epoch": ev.epoch_num}
    if isinstance(ev, Dropped):
        return {"type": "dropped", "what": ev.what, "reason": ev.reason.value, "message": ev.message,
                "detail": ev.detail}
    if isinstance(ev, SystemConfigChanged):
        return {"type": "system_config_changed", "fields": list(ev.what)}
    if isinstance(ev, PipelineReset):
        return {"type": "reset", "reason": ev.reason}
    return None


def _by_l1_block(result: ReplayResult) -> OrderedDict:
    """L1 block number -> (ref, [items]); every block derivation traversed, in number order."""
    blocks: dict[int, list] = {}
    for ev in result.session.timeline:
        ref = ev.derived_from if isinstance(ev, DerivedBlock) else ev.l1
        entry = blocks.setdefault(ref.number, [ref, []])
        if not isinstance(ev, OriginAdvanced):
            entry[1].append(ev)
    return OrderedDict(sorted(blocks.items()))


def result_json(result: ReplayResult) -> dict:
    out = {"verdict": result.verdict.value, "message": result.message, "derived": len(result.derived),
           "first_mismatch": None}
    bad = result.first_mismatch
    if bad is not None:
        out["first_mismatch"] = {"number": bad.number, "derived_from": bad.derived_from.to_json(),
                                 "recorded_hash": to_hex(bad.recorded.hash), "diffs": _diff_json(bad)}
    return out


def run_json(result: ReplayResult) -> dict:
    l1 = [{"number": n, "hash": to_hex(ref.hash), "timestamp": ref.time,
           "events": [j for j in (event_json(e) for e in items) if j is not None]}
          for n, (ref, items) in _by_l1_block(result).items()]
    return {"recording": summary_json(result.store, result), "l1_blocks": l1, "result": result_json(result)}


def inspect_json(result: ReplayResult, mapping: Mapping) -> dict:
    channels = [{"id": to_hex(c.id), "l1_blocks": c.l1_blocks,
                 "frames": [{"l1_block": f.l1_block, "data_index": f.data_index, "number": f.number, "size": f.size,
                             "is_last": f.is_last} for f in c.frames],
                 "ready_at": c.ready_at, "frame_bytes": c.frame_bytes, "compressed_bytes": c.compressed,
                 "decompressed_bytes": c.decompressed, "read_fully": c.read_fully, "ratio": None if c.ratio is None else round(c.ratio, 3),
                 "compression": c.compression,
                 "batches": [{"l1_block": b.l1_block, "type": b.batch_type, "timestamp": b.timestamp,
                              "blocks": b.blocks, "txs": b.txs, "size": b.size} for b in c.batches],
                 "l2_blocks": c.l2_blocks,
                 "drops": [{"what": d.what, "reason": d.reason.value, "l1_block": d.l1.number, "message": d.message}
                           for d in c.drops]} for c in mapping.channels]
    l2 = [{"number": m.block.number, "timestamp": m.block.attributes.attributes.timestamp,
           "txs": len(m.block.attributes.attributes.transactions),
           "channel_id": None if m.channel_id is None else to_hex(m.channel_id), "inclusion_l1_blocks": list(m.inclusion),
           "derived_from": m.block.derived_from.number, "outcome": m.block.comparison.outcome.value}
          for m in mapping.l2_blocks]
    data = [{"l1_block": d.l1.number, "reason": d.reason.value, "message": d.message} for d in mapping.data_drops]
    return {"recording": summary_json(result.store, result), "channels": channels, "l2_blocks": l2,
            "invalid_data": data, "result": result_json(result)}


# ------------------------------------------------------------------------------------------------ text


def _attrs_line(d: DerivedBlock) -> str:
    a = d.attributes.attributes
    deposits = sum(1 for t in a.transactions if t[:1] == bytes((DEPOSIT,)))
    parts = [f"t={a.timestamp}", f"{len(a.transactions)} txs ({deposits} deposits)", f"gas limit {a.gas_limit}",
             f"prevRandao {_short(a.prev_randao)}", f"fee recipient {to_hex(a.suggested_fee_recipient)}"]
    if a.parent_beacon_block_root is not None:
        parts.append(f"beacon root {_short(a.parent_beacon_block_root)}")
    if a.eip1559_params is not None:
        parts.append(f"eip1559Params {to_hex(a.eip1559_params)}")
    if a.min_base_fee is not None:
        parts.append(f"minBaseFee {a.min_base_fee}")
    return ", ".join(parts)


def _event_line(ev: Event | DerivedBlock) -> str | None:
    if isinstance(ev, DerivedBlock):
        outcome = ev.comparison.outcome
        verdict = {Outcome.MATCH: f"[green]matches[/green] {_short(ev.recorded.hash)}",
                   Outcome.DEPOSITS_ONLY: "[yellow]replaced by its deposits[/yellow] (the engine rejected the "
                                          "payload; rest of the channel flushed)",
                   Outcome.MISMATCH: "[red bold]DOES NOT MATCH[/red bold] the recorded block"}[outcome]
        return f"  [bold]L2 #{ev.number}[/bold] attributes: {escape(_attrs_line(ev))} → {verdict}"
    if isinstance(ev, FramesRead):
        frames = "; ".join(f"channel {c.hex()} frame {n} ({s} B{', last' if last else ''})" for c, n, s, last in
                           ev.frames)
        return f"  frames     data item {ev.tx_index}: {frames}"
    if isinstance(ev, ChannelReady):
        return (f"  channel    {ev.channel_id.hex()} ready: {ev.frames} frame{'s' if ev.frames != 1 else ''}, "
                f"{ev.size} B (opened in L1 #{ev.opened_at})")
    if isinstance(ev, BatchRead):
        return (f"  batch      {ev.batch_type} read from channel {ev.channel_id.hex()}: {ev.blocks} "
                f"block{'s' if ev.blocks != 1 else ''} from t={ev.timestamp}, {ev.txs} txs, {ev.size} B "
                f"({ev.compression or 'uncompressed'})")
    if isinstance(ev, BatchAccepted):
        return (f"  accepted   batch t={ev.timestamp}, epoch {ev.epoch_num}, {ev.txs} txs"
                f"{' (from a span batch)' if ev.from_span else ''}")
    if isinstance(ev, EmptyBatchGenerated):
        return f"  empty      batch t={ev.timestamp}, epoch {ev.epoch_num} (sequencing window expired)"
    if isinstance(ev, Dropped):
        return f"  [yellow]dropped[/yellow]    {ev.what}: {ev.reason.value}: {escape(ev.message)}"
    if isinstance(ev, SystemConfigChanged):
        return f"  config     SystemConfig updated: {', '.join(ev.what)}"
    if isinstance(ev, PipelineReset):
        return f"  reset      {escape(ev.reason)}"
    return None


def print_summary(console: Console, store: Store, result: ReplayResult | None = None) -> None:
    s = summary_json(store, result)
    start = store.meta.start
    console.print(f"[bold]Recording[/bold]: {escape(s['description'] or '(no description)')}")
    line = f"  L1 range {s['range']['from_l1']}–{s['range']['to_l1']}"
    if s.get("derivation_start_l1") is not None:
        line += f" (derivation reads L1 from block {s['derivation_start_l1']})"
    console.print(line)
    console.print(f"  start safe head: L2 #{start.number} {_short(start.hash)}, L1 origin #{start.l1_origin.number}; "
                  f"L2 chain {s['l2_chain_id']} on L1 chain {s['l1_chain_id']}")
    c = s["contents"]
    console.print(f"  holds {c['l1_headers']} L1 headers, {c['l1_transaction_lists']} transaction lists, "
                  f"{c['l1_receipt_lists']} receipt lists, {c['blobs']} blobs, {c['l2_blocks']} L2 blocks")


def print_diff(console: Console, d: DerivedBlock) -> None:
    console.print(f"[red bold]L2 block {d.number}[/red bold] derived from L1 block {d.derived_from.number} "
                  f"does not match the recorded block {to_hex(d.recorded.hash)}:")
    t = Table(show_edge=False, pad_edge=False, box=None)
    for col in ("field", "derived", "recorded", ""):
        t.add_column(col, overflow="fold")
    for f in d.comparison.diffs:
        t.add_row(f.field, escape(f.derived), escape(f.recorded), escape(f.detail))
    console.print(t)


def print_timeline(console: Console, blocks: Iterable[tuple[int, L1BlockRef, list[str]]]) -> None:
    """One heading per L1 block with its lines; a run of blocks without lines collapses into one dim line."""
    quiet: list[int] = []

    def flush_quiet() -> None:
        if quiet:
            span = f"L1 #{quiet[0]}" if len(quiet) == 1 else f"L1 #{quiet[0]}–#{quiet[-1]}"
            console.print(f"[dim]{span}: nothing for the rollup[/dim]")
            quiet.clear()

    for n, ref, lines in blocks:
        if not lines:
            quiet.append(n)
            continue
        flush_quiet()
        console.print(f"[bold cyan]L1 #{n}[/bold cyan] {_short(ref.hash)} t={ref.time}")
        for line in lines:
            console.print(line)
    flush_quiet()


def print_run(console: Console, result: ReplayResult) -> None:
    print_summary(console, result.store, result)
    console.print()
    print_timeline(console, ((n, ref, [x for x in (_event_line(e) for e in items) if x is not None])
                             for n, (ref, items) in _by_l1_block(result).items()))
    console.print()
    bad = result.first_mismatch
    if bad is not None:
        print_diff(console, bad)
    colour = "green" if result.verdict is Verdict.MATCH else "red"
    console.print(f"[{colour} bold]{result.verdict}[/{colour} bold]: {escape(result.message)}")


def _batches_cell(c) -> str:
    singular = sum(1 for b in c.batches if b.batch_type == "singular")
    spans = [b.blocks for b in c.batches if b.batch_type == "span"]
    parts = []
    if singular:
        parts.append(f"{singular} singular")
    if spans:
        parts.append(f"{len(spans)} span ({sum(spans)} blocks)")
    return ", ".join(parts) or "-"


def print_inspect(console: Console, result: ReplayResult, mapping: Mapping) -> None:
    print_summary(console, result.store, result)
    console.print()
    t = Table(title="Channels (ids shortened; full ids in --json)", title_justify="left", show_edge=False)
    for col in ("channel", "L1 block(data item)", "frames", "compressed", "decompressed", "ratio", "algo",
                "batches", "L2 blocks", "status"):
        t.add_column(col, overflow="fold")
    for c in mapping.channels:
        where = ", ".join(f"#{n}({i})" for n, i in sorted({(f.l1_block, f.data_index) for f in c.frames}))
        reasons = Counter(d.reason.value for d in c.drops)
        status = "; ".join(r if n == 1 else f"{r} ×{n}" for r, n in reasons.items())
        status = status or ("ready" if c.ready_at is not None else "incomplete")
        t.add_row(c.id.hex()[:12], where, str(len(c.frames)), "-" if c.compressed is None else f"{c.compressed} B",
                  (f"{c.decompressed} B" + ("" if c.read_fully else " (partly read)")) if c.batches else "-",
                  "-" if c.ratio is None else f"{c.ratio:.2f}",
                  c.compression or "-", _batches_cell(c), _ranges(c.l2_blocks) or "-", status)
    console.print(t)
    console.print()
    t = Table(title="L2 blocks", title_justify="left", show_edge=False)
    for col in ("L2 block", "timestamp", "txs", "channel", "L1 inclusion", "derived from", "compared"):
        t.add_column(col, overflow="fold")
    for m in mapping.l2_blocks:
        a = m.block.attributes.attributes
        t.add_row(f"#{m.block.number}", str(a.timestamp), str(len(a.transactions)),
                  m.channel_id.hex()[:12] if m.channel_id is not None else "(none: window expired)",
                  ", ".join(f"#{n}" for n in m.inclusion) or "-", f"L1 #{m.block.derived_from.number}",
                  m.block.comparison.outcome.value)
    console.print(t)
    if mapping.data_drops:
        console.print()
        console.print("[bold]Batcher data that was not frames[/bold]")
        for d in mapping.data_drops:
            console.print(f"  L1 #{d.l1.number}: {escape(d.message)}")
    console.print()
    colour = "green" if result.verdict is Verdict.MATCH else "red"
    console.print(f"[{colour}]{result.verdict}[/{colour}]: {escape(result.message)}")


def _ranges(numbers: list[int]) -> str:
    out, start, prev = [], None, None
    for n in sorted(numbers):
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"#{start}" if start == prev else f"#{start}–#{prev}")
            start = prev = n
    if start is not None:
        out.append(f"#{start}" if start == prev else f"#{start}–#{prev}")
    return ", ".join(out)
