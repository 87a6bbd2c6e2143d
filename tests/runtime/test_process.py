"""The process life shared by ``opnode node`` and ``opnode supernode`` (opnode/node/runtime/process.py): a signal
cancels the service cleanly; a start-up or critical error is exit code 1 with one line; a clean return is 0."""

import logging
import os
import signal

import pytest
import trio
import trio.testing

from derivation.protocol.errors import CriticalError
from opnode.node.logs import get_logger
from opnode.node.runtime.chain import StartupError
from opnode.node.runtime.process import cancel_on_signal, run_until_signal

log = get_logger("tests.process")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_a_signal_cancels_the_service(sig, caplog):
    caplog.set_level(logging.INFO)
    async with trio.open_nursery() as n:
        n.start_soon(cancel_on_signal, n.cancel_scope, log)
        n.start_soon(trio.sleep_forever)  # the service: runs until the signal cancels it
        await trio.testing.wait_all_tasks_blocked()
        os.kill(os.getpid(), sig)
    assert n.cancel_scope.cancel_called
    said = [(r.getMessage(), dict(r.kv)) for r in caplog.records]
    assert ("Shutting down", {"signal": signal.Signals(sig).name}) in said, said


def _raising(exc: BaseException):
    async def main() -> None:
        async with trio.open_nursery() as n:  # the services raise from inside the node's nursery
            async def fail() -> None:
                raise exc
            n.start_soon(fail)
    return main


@pytest.mark.parametrize("exc, line", [(StartupError("no engine"), "Cannot start: no engine"),
                                       (CriticalError("bad block"), "Derivation halted: bad block")])
def test_a_startup_or_critical_error_exits_1_with_one_line(exc, line, caplog):
    assert run_until_signal(_raising(exc), log) == 1
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.CRITICAL] == [line]


def test_a_clean_return_exits_0():
    async def main() -> None:
        await trio.sleep(0)
    assert run_until_signal(main, log) == 0


def test_any_other_error_propagates():
    with pytest.raises(ExceptionGroup):
        run_until_signal(_raising(ValueError("bug")), log)
