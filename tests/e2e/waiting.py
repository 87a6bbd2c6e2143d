"""Waiting on a condition in the process e2e tests: poll until it holds or fail with what was awaited."""

from __future__ import annotations

import time


def wait(pred, timeout: float, what: str, poll: float = 0.25):
    """``pred()``'s first truthy value, polled every ``poll`` s; AssertionError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
