"""The saved crashers: fuzz/crashers/<target>/<id>.bin (the minimized input), <id>.txt (what it does), indexed in
fuzz/crashers/index.json and listed in fuzz/crashers/README.md (generated from the index).

A crasher is ``open`` until the defect is fixed, then ``fixed``; ``make test`` replays every one (tests/test_fuzz.py):
a fixed one must keep the contract, an open one must still break it (when it stops doing so, mark it fixed).
"""

from __future__ import annotations

import json
from pathlib import Path

from fuzz.contract import Finding

ROOT = Path(__file__).resolve().parent
CRASHERS = ROOT / "crashers"
INDEX = CRASHERS / "index.json"
README = CRASHERS / "README.md"
_OWNER = (("derivation/", "derivation/ (another helper is changing it: route the fix)"),
          ("engine/evm", "engine/evm (another helper)"), ("engine/chain", "engine/chain (another helper)"),
          ("engine/engine_api", "engine/engine_api (another helper)"), ("engine/server", "engine/server (another helper)"),
          ("engine/client", "engine/client.py (the node's engine client; owned by the derivation helper)"))


def load_index() -> list[dict]:
    return json.loads(INDEX.read_text()) if INDEX.exists() else []


def input_path(entry: dict) -> Path:
    return CRASHERS / entry["target"] / f"{entry['id']}.bin"


def known_signatures() -> set[tuple[str, str]]:
    return {(e["target"], e["signature"]) for e in load_index()}


def save(finding: Finding, found: str, how: str = "make fuzz") -> dict:
    """Store a new (minimized) crasher as open; returns its index entry."""
    d = CRASHERS / finding.target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{finding.input_id}.bin").write_bytes(finding.data)
    (d / f"{finding.input_id}.txt").write_text(f"{finding.summary}\n\n{finding.traceback}")
    where = finding.signature.split(" at ", 1)[-1]
    owner = next((o for p, o in _OWNER if where.startswith(p)), "")
    entry = {"id": finding.input_id, "target": finding.target, "kind": finding.kind, "signature": finding.signature,
             "summary": finding.summary, "status": "open", "found": found, "found_by": how, "owner": owner,
             "size": len(finding.data)}
    index = [e for e in load_index() if e["id"] != entry["id"]] + [entry]
    write_index(index)
    return entry


def write_index(index: list[dict]) -> None:
    CRASHERS.mkdir(parents=True, exist_ok=True)
    INDEX.write_text(json.dumps(sorted(index, key=lambda e: (e["target"], e["found"], e["id"])), indent=1) + "\n")
    write_readme(index)


def write_readme(index: list[dict]) -> None:
    lines = ["# Fuzz crashers", "",
             "Generated from index.json by `make fuzz` (fuzz/findings.py): edit the index, not this file.", "",
             "Each input broke the contract of fuzz/contract.py: an exception that is not the decoder's own error type,",
             "more than 1 s of CPU, or more than 256 MiB of resident memory on one input. `make test` replays every",
             "one (tests/test_fuzz.py): a *fixed* crasher must keep the contract; an *open* one must still break it",
             "(when it stops, the defect is fixed: set its status to fixed).", "",
             "| status | target | kind | defect | owner | input |", "| --- | --- | --- | --- | --- | --- |"]
    for e in sorted(index, key=lambda e: (e["status"] != "open", e["target"], e["id"])):
        lines.append(f"| {e['status']} | {e['target']} | {e['kind']} | {e['signature']} | {e.get('owner', '')} | "
                     f"[{e['id'][:12]}]({e['target']}/{e['id']}.bin) ({e['size']} bytes) |")
    for e in index:
        if e["status"] != "open":
            continue
        data = input_path(e).read_bytes()
        text = (CRASHERS / e["target"] / f"{e['id']}.txt").read_text()
        lines += ["", f"## open: {e['target']}: {e['signature']}", "", e.get("note", e["summary"]), "",
                  f"Input `{e['target']}/{e['id']}.bin`, {len(data)} bytes"
                  + (f", hex `{data.hex()}`" if len(data) <= 256 else f", first 256 bytes hex `{data[:256].hex()}`"),
                  "", "```", text.strip()[-4000:], "```"]
    README.write_text("\n".join(lines) + "\n")
