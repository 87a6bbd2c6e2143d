"""The live table of ``opnode devnet`` (rich, on the terminal): one row per node with its unsafe, safe and finalized
heads and how far each lags the sequencer's, for a light node the source it follows and its safe head against that
source's, the L1 head, and the counters of what the devnet is doing (traffic,
batcher transactions by DA, faults and rewinds, derivation drops by reason)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

HEADS = ("unsafe", "safe", "finalized")


def _lag(value: int | None, ref: int | None) -> str:
    if value is None or ref is None:
        return "-"
    d = ref - value
    return "" if d == 0 else f"{-d:+d}"


def nodes_table(sample: dict | None, roles: dict[str, str], follows: dict[str, str | None]) -> Table:
    t = Table(title="opnode devnet", title_justify="left", expand=False)
    t.add_column("node", no_wrap=True)
    t.add_column("role", no_wrap=True)
    for h in HEADS:
        t.add_column(h, justify="right")
        t.add_column("lag", justify="right", style="dim")
    t.add_column("safe L1", justify="right")
    t.add_column("safe vs source", justify="right")
    nodes = (sample or {}).get("nodes", {})
    seq = nodes.get("sequencer") or {}
    for name, role in roles.items():
        row = nodes.get(name)
        label = role if not follows.get(name) else f"{role} ← {follows[name]}"
        if row is None:
            t.add_row(name, label, *[Text("down", style="red")] + [""] * 7)
            continue
        cells = []
        for h in HEADS:
            cells += [str(row.get(h)), _lag(row.get(h), seq.get(h)) if name != "sequencer" else ""]
        source = nodes.get(follows.get(name) or "") or {}
        vs_source = (_lag(row.get("safe"), source.get("safe")) or "=") if follows.get(name) else ""
        t.add_row(name, label, *cells, str(row.get("safe_l1origin", "-")), vs_source)
    return t


def counters_text(sample: dict | None, traffic: dict | None, batcher: dict | None, drops: dict | None) -> Text:
    s = sample or {}
    tr, b = traffic or {}, batcher or {}
    lines = [f"L1 head {s.get('l1_head', '-')}   elapsed {s.get('t', 0):.0f} s"]
    if tr:
        lines.append(f"traffic: L2 sent {sum(tr.get('l2_sent', {}).values())} included {tr.get('l2_included', 0)}"
                     f" refused {tr.get('l2_refused', 0)}; deposits {sum(tr.get('deposits', {}).values())}; "
                     f"SystemConfig updates {sum(tr.get('config_updates', {}).values())}; "
                     f"rotations {len(tr.get('rotations', []))}; errors {tr.get('errors', 0)}")
    if b:
        by_da = ", ".join(f"{k} {v}" for k, v in sorted((b.get("txs_included_by_da") or {}).items())) or "none yet"
        lines.append(f"batcher: txs included {by_da}; in flight {b.get('in_flight', 0)}; "
                     f"faults {dict(b.get('faults') or {}) or 0}; rewinds {dict(b.get('rewinds') or {}) or 0}")
    if drops:
        lines.append("drops: " + ", ".join(f"{k} {int(v)}" for k, v in sorted(drops.items())))
    return Text("\n".join(lines))


def render(sample: dict | None, roles: dict[str, str], follows: dict[str, str | None], traffic: dict | None,
           batcher: dict | None, drops: dict | None) -> Group:
    return Group(nodes_table(sample, roles, follows), counters_text(sample, traffic, batcher, drops))
