"""The node process's life (``opnode node`` and ``opnode supernode``): run the service under trio until SIGINT or
SIGTERM cancels it, and turn a start-up or critical error into exit code 1 with one line (op-node's ``cliapp``
lifecycle: interrupt → clean stop, exit 0)."""

from __future__ import annotations

import signal
from collections.abc import Awaitable, Callable

import trio

from derivation.protocol.errors import CriticalError
from opnode.node.logs import Logger
from opnode.node.runtime.chain import StartupError


async def cancel_on_signal(scope: trio.CancelScope, log: Logger) -> None:
    """Cancel ``scope`` at the first SIGINT or SIGTERM (a task of the service's nursery)."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for sig in signals:
            log.info("Shutting down", signal=signal.Signals(sig).name)
            scope.cancel()
            return


def run_until_signal(main: Callable[[], Awaitable[object]], log: Logger) -> int:
    """Run ``main`` under trio; the process exit code (0 clean, 1 on a start-up or critical error)."""
    code = 0
    try:
        trio.run(main)
    except* StartupError as group:
        log.crit(f"Cannot start: {group.exceptions[0]}")
        code = 1
    except* CriticalError as group:
        log.crit(f"Derivation halted: {group.exceptions[0]}")
        code = 1
    return code
