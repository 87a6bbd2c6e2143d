"""The contract every decoder of untrusted bytes must keep, checked for each fuzz input.

1. Only the decoder's own error types may leave it (``derivation.protocol.errors.ParseError`` and its subclasses, or the
   documented error type of the module, listed per target). Any other exception is a finding.
2. Time per input is bounded: more than :data:`CPU_LIMIT` seconds of CPU is a finding. A watchdog (a ``SIGPROF``
   interval timer) interrupts the input where it is, so a slow decoder costs the campaign one second, not minutes.
   CPU time rather than wall time: the machine is shared, and a busy neighbour must not produce findings.
3. Memory per input is bounded: resident memory growing more than :data:`MEMORY_LIMIT` bytes above what it was when
   the input started is a finding. The same watchdog samples the resident size while the input runs and interrupts it;
   after each input the kernel's peak resident size (``ru_maxrss``, reset through ``/proc/self/clear_refs``) catches
   a peak that came and went between two samples.

The watchdog's interruptions are ``BaseException`` subclasses so that a decoder's ``except Exception`` (which turns
any failure into a drop) cannot swallow them.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import resource
import signal
import time
import traceback
from dataclasses import dataclass

CPU_LIMIT = 1.0
MEMORY_LIMIT = 256 << 20
_TICK = 0.05  # seconds of CPU between watchdog samples
_PAGE = os.sysconf("SC_PAGE_SIZE")
_PROJECT = ("derivation", "engine", "opnode", "p2p")


class BudgetExceeded(BaseException):  # noqa: N818 (not an error of the decoder: the watchdog stopped it)
    """The watchdog stopped an input that ran over its time or memory budget."""

    kind = "budget"


class TooSlow(BudgetExceeded):
    kind = "slow"


class TooMuchMemory(BudgetExceeded):
    kind = "memory"


@dataclass(frozen=True, slots=True)
class Finding:
    """One input that broke the contract. ``signature`` identifies the defect (the same bug found twice has the same
    signature); ``kind`` is ``exception``, ``slow`` or ``memory``."""

    target: str
    kind: str
    signature: str
    summary: str
    traceback: str
    data: bytes

    @property
    def input_id(self) -> str:
        return hashlib.sha1(self.data).hexdigest()


def _rss() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * _PAGE


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:  # not Linux, or not allowed: the sampled bound still holds
        pass


def _peak() -> int:
    """The peak resident size since the last :func:`_reset_peak`: ``VmHWM``, which clear_refs resets. Not
    ``ru_maxrss``: it also holds the parent's peak inherited through fork+exec (a 600 MB pytest made every input of
    a crasher-replay subprocess look 340 MiB too large), and clear_refs does not lower it."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _stop() -> None:
    signal.setitimer(signal.ITIMER_PROF, 0, 0)
    signal.signal(signal.SIGPROF, signal.SIG_IGN)


def _sample(signum, frame) -> None:
    checker = Checker._running
    if checker is not None:
        checker._tick()


def _project_frame(tb, function: bool = False) -> str:
    """file:line (or file:function) of the innermost frame in this project's packages (where the defect is), else
    of the innermost frame."""
    frames = [fr for fr in traceback.extract_tb(tb) if fr.filename != __file__]  # not the watchdog's own frame
    for fr in reversed(frames):
        parts = fr.filename.replace(os.sep, "/").split("/")
        for i, p in enumerate(parts[:-1]):
            if p in _PROJECT:
                return f"{'/'.join(parts[i:])}:{fr.name if function else fr.lineno}"
    if not frames:
        return "?"
    return f"{os.path.basename(frames[-1].filename)}:{frames[-1].name if function else frames[-1].lineno}"


class Checker:
    """Runs inputs through targets under the contract. Checkers share the process's ``SIGPROF`` timer: it samples
    whichever checker is running an input."""

    _open = 0
    _running: Checker | None = None
    _last: Checker | None = None

    def __init__(self, cpu_limit: float = CPU_LIMIT, memory_limit: int = MEMORY_LIMIT):
        self.cpu_limit = cpu_limit
        self.memory_limit = memory_limit
        self._started: float | None = None  # CPU time when the running input started
        self._base_rss = 0
        self._runs = 0
        self._warm: set[str] = set()
        self._stale = False
        if Checker._open == 0:
            atexit.register(_stop)  # a tick left for interpreter shutdown would kill the process (SIGPROF)
            signal.signal(signal.SIGPROF, _sample)
            signal.setitimer(signal.ITIMER_PROF, _TICK, _TICK)
        Checker._open += 1
        self._rebase()

    def close(self) -> None:
        Checker._open -= 1
        if Checker._open == 0:
            _stop()

    def _rebase(self) -> None:
        _reset_peak()
        self._base_rss = _rss()

    def _tick(self) -> None:
        started = self._started
        if started is None:
            return
        used = time.process_time() - started
        if used > self.cpu_limit:
            self._started = None
            raise TooSlow(f"more than {self.cpu_limit:g} s of CPU on one input ({used:.2f} s when stopped)")
        grown = _rss() - self._base_rss
        if grown > self.memory_limit:
            self._started = None
            raise TooMuchMemory(f"resident memory grew by {grown >> 20} MiB on one input "
                                f"(limit {self.memory_limit >> 20} MiB)")

    def run(self, target, data: bytes) -> Finding | None:
        """Feed ``data`` to ``target``; the finding, or None when the contract held.

        A target's ``warmup`` (a one-time cost of the process, e.g. loading the KZG setup) runs before its first
        input, outside the budget. An input found slow is run a second time: only if it is slow again does it count, so that a one-time cost
        of the process (the KZG setup that the first blob check loads, a first import) is not blamed on an input.
        """
        if target.name not in self._warm:
            self._warm.add(target.name)
            if target.warmup is not None:
                target.warmup()
        f = self._run(target, data)
        if f is not None and f.kind == "slow":
            f = self._run(target, data)
        return f

    def _run(self, target, data: bytes) -> Finding | None:
        f = self._attempt(target, data)
        if f is not None:
            self._stale = True  # measure the next input from what is left once this one's memory is released
        return f

    def _attempt(self, target, data: bytes) -> Finding | None:
        self._runs += 1
        # Re-measure the baseline now and then (the fuzzer's own state grows slowly), after a finding, and when
        # another checker ran in between (the peak resident size is the process's, shared by all checkers).
        if self._stale or Checker._last is not self or self._runs % 1024 == 0:
            self._rebase()
            self._stale = False
        Checker._last = self
        try:
            Checker._running = self
            self._started = time.process_time()
            try:
                target.fn(data)
            finally:
                self._started = None
                Checker._running = None
        except target.allowed:
            pass
        except BudgetExceeded as e:
            # Where the watchdog stopped it, by function: a slow loop is stopped at a different line each time.
            return Finding(target.name, e.kind, f"{e.kind} in {_project_frame(e.__traceback__, function=True)}",
                           str(e), traceback.format_exc(), bytes(data))
        except BaseException as e:
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            tb = e.__traceback__
            where = _project_frame(tb)
            return Finding(target.name, "exception", f"{type(e).__name__} at {where}",
                           f"{type(e).__name__}: {str(e)[:300]}", traceback.format_exc(), bytes(data))
        grown = _peak() - self._base_rss
        if grown > self.memory_limit:
            return Finding(target.name, "memory", "memory",
                           f"peak resident memory grew by {grown >> 20} MiB on one input "
                           f"(limit {self.memory_limit >> 20} MiB)", "", bytes(data))
        return None
