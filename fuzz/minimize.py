"""Shrinking a finding's input while it still shows the same defect (same signature), delta-debugging style:
drop chunks from large to single bytes, then replace bytes by zero. Bounded in attempts and time, because each
attempt of a slow or memory finding costs up to the watchdog's limit."""

from __future__ import annotations

import time

from fuzz.contract import Checker, Finding


def minimize(checker: Checker, target, finding: Finding, max_seconds: float = 60.0,
             max_attempts: int = 5000) -> Finding:
    best = finding
    deadline = time.monotonic() + max_seconds
    attempts = 0

    def still(data: bytes) -> Finding | None:
        nonlocal attempts
        attempts += 1
        f = checker.run(target, data)
        return f if f is not None and f.signature == finding.signature else None

    def budget() -> bool:
        return attempts < max_attempts and time.monotonic() < deadline

    chunk = max(1, len(best.data) // 2)
    while chunk >= 1 and budget():
        i = 0
        while i < len(best.data) and budget():
            f = still(best.data[:i] + best.data[i + chunk:])
            if f is not None:
                best = f
            else:
                i += chunk
        chunk //= 2
    for i in range(len(best.data)):
        if not budget():
            break
        if best.data[i]:
            f = still(best.data[:i] + b"\x00" + best.data[i + 1:])
            if f is not None:
                best = f
    return best
