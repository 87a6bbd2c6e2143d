"""Output of ``opnode replay witness``: the explanation ``replay run`` gives (per L1 block: batcher data, frames,
channels, batches, drops; per L2 block: attributes and, here, the executed block), then the verdict; and the same as
JSON (``claim_holds``, ``computed_output_root``, ``claimed_output_root``, per block hash and state root)."""

from __future__ import annotations

from collections import OrderedDict

from rich.console import Console
from rich.markup import escape

from derivation.events import OriginAdvanced
from derivation.protocol.hexutil import to_hex
from opnode.tools.replay.render import _attrs_line, _event_line, event_json, print_timeline
from opnode.tools.witness.run import DroppedPayload, ExecutedBlock, Result, first_l1_block


def _lines(items: list) -> list[str]:
    lines = []
    for e in items:
        if isinstance(e, ExecutedBlock):
            lines.append(_block_line(e))
        elif isinstance(e, DroppedPayload):
            lines.append(f"  [yellow]dropped[/yellow]    payload for L2 #{e.attributes.parent.number + 1}: "
                         f"{escape(e.reason)}")
        else:
            line = _event_line(e)
            if line is not None:
                lines.append(line)
    return lines


def _by_l1_block(result: Result) -> OrderedDict:
    blocks: dict[int, list] = {}
    for ev in result.timeline:
        ref = ev.derived_from if isinstance(ev, (ExecutedBlock, DroppedPayload)) else ev.l1
        entry = blocks.setdefault(ref.number, [ref, []])
        if not isinstance(ev, OriginAdvanced):
            entry[1].append(ev)
    return OrderedDict(sorted(blocks.items()))


def block_json(b: ExecutedBlock) -> dict:
    h = b.header
    return {"type": "l2_block", "number": h.number, "hash": to_hex(h.hash), "state_root": to_hex(h.state_root),
            "parent": b.attributes.parent.to_json(), "derived_from": b.derived_from.to_json(),
            "attributes": b.attributes.attributes.to_json(), "transactions": len(b.transactions),
            "gas_used": h.gas_used, "output_root": to_hex(b.output_root), "replaced_by_deposits": b.replaced}


def _item_json(ev) -> dict | None:
    if isinstance(ev, ExecutedBlock):
        return block_json(ev)
    if isinstance(ev, DroppedPayload):
        return {"type": "payload_dropped", "number": ev.attributes.parent.number + 1, "reason": ev.reason}
    return event_json(ev)


def result_json(result: Result, store_description: str = "") -> dict:
    inp = result.inputs
    return {
        "witness": {"store": store_description, "l1_head": to_hex(inp.l1_head),
                    "agreed_output_root": to_hex(inp.agreed_output_root), "agreed_l2_head": result.agreed_head,
                    "claimed_l2_block_number": inp.claimed_block_number, "l2_chain_id": inp.cfg.l2_chain_id,
                    "l1_chain_id": inp.cfg.l1_chain_id, "derivation_start_l1": first_l1_block(result),
                    "preimages_read": result.preimages_read, "preimage_bytes_read": result.preimages_bytes},
        "l1_blocks": [{"number": n, "hash": to_hex(ref.hash), "timestamp": ref.time,
                       "events": [j for j in (_item_json(e) for e in items) if j is not None]}
                      for n, (ref, items) in _by_l1_block(result).items()],
        "l2_blocks": [block_json(b) for b in result.executed],
        "claim_holds": result.claim_holds,
        "computed_output_root": to_hex(result.computed_output_root),
        "claimed_output_root": to_hex(inp.claimed_output_root),
        "output_block": result.safe_head,
        "exhausted": result.exhausted,
        "failed": result.failed,
        "message": result.message,
        "timings": {k: round(v, 4) for k, v in vars(result.timings).items()},
    }


def _block_line(b: ExecutedBlock) -> str:
    h = b.header
    head = f"  [bold]L2 #{h.number}[/bold] attributes: {escape(_attrs_line(b))}"
    done = (f"\n             executed: {len(b.transactions)} txs, gas used {h.gas_used}, state root "
            f"{to_hex(h.state_root)}, hash {to_hex(h.hash)}, output root {to_hex(b.output_root)}")
    if b.replaced:
        done += f"\n             [yellow]replaced by its deposits[/yellow]: {escape(b.replaced)}"
    return head + done


def print_result(console: Console, result: Result, store_description: str = "") -> None:
    inp = result.inputs
    console.print(f"[bold]Witness[/bold]: {escape(store_description)}")
    console.print(f"  L2 chain {inp.cfg.l2_chain_id} on L1 chain {inp.cfg.l1_chain_id}; L1 head {to_hex(inp.l1_head)}")
    console.print(f"  agreed: L2 block {result.agreed_head}, output root {to_hex(inp.agreed_output_root)}")
    console.print(f"  claim:  L2 block {inp.claimed_block_number}, output root {to_hex(inp.claimed_output_root)}")
    start = first_l1_block(result)
    if start is not None:
        console.print(f"  derivation reads L1 from block {start}; {result.preimages_read} preimages read "
                      f"({result.preimages_bytes} bytes)")
    console.print()
    print_timeline(console, ((n, ref, _lines(items)) for n, (ref, items) in _by_l1_block(result).items()))
    console.print()
    if not result.claim_holds:
        console.print(f"[red bold]The output root differs at L2 block {result.safe_head}[/red bold]: computed "
                      f"{to_hex(result.computed_output_root)} (the true root), claimed {to_hex(inp.claimed_output_root)}")
        c = result.claimed_preimage
        mine = next((b for b in result.executed if b.number == result.safe_head), None)
        if c is not None and mine is not None:
            for name, claimed, got in (("state root", c.state_root, mine.header.state_root),
                                       ("block hash", c.block_hash, mine.header.hash)):
                if claimed != got:
                    console.print(f"  {name}: computed {to_hex(got)}, claimed {to_hex(claimed)}")
    colour = "green" if result.claim_holds else "red"
    verdict = "claim holds" if result.claim_holds else "claim does not hold"
    console.print(f"[{colour} bold]{verdict}[/{colour} bold]: {escape(result.message)}")
