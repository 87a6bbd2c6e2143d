"""Control-flow signals between stages (internal to the pipeline, never seen by its callers)."""

from collections.abc import Callable

from derivation.events import Event


class EOF(Exception):
    """The stage has nothing more from the current L1 origin: the pipeline may advance L1."""


class NotEnoughData(Exception):
    """The stage made progress but has no output yet: step again."""


Emit = Callable[[Event], None]


def no_emit(_: Event) -> None:
    pass
