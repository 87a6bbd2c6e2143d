"""``--rpc.admin-state``: the sequencer's started/stopped state, changed by ``admin_startSequencer`` /
``admin_stopSequencer``, kept in a file so it survives restarts (op-node/config/config_persistence.go and
``Config.LoadPersisted``, okx/optimism@7573e762, 2026-06-30).

The file is op-node's: ``{"sequencerStarted":true}``; a missing file is "unset" (the flags decide); unknown fields
are an error (op-node decodes with ``DisallowUnknownFields``). Writes go to ``<file>.tmp``, are fsynced and renamed
into place, so a crash or a full disk never leaves a torn file. At start, a sequencer's persisted state overrides
``--sequencer.stopped`` (op-node logs a warning when they differ); a node that does not sequence ignores the file.
"""

from __future__ import annotations

import json
import os

from derivation.protocol.errors import ParseError


class AdminStateError(ParseError):
    """The admin-state file cannot be read, is not op-node's format, or cannot be written."""


class AdminState:
    def __init__(self, path: str):
        self.path = path

    def sequencer_started(self) -> bool | None:
        """True (started), False (stopped) or None (no state persisted yet)."""
        try:
            with open(self.path, "rb") as fh:
                raw = fh.read()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise AdminStateError(f"read config file ({self.path}): {e.strerror}") from None
        try:
            doc = json.loads(raw)
        except ValueError as e:
            raise AdminStateError(f"invalid config file ({self.path}): {e}") from None
        if not isinstance(doc, dict) or set(doc) - {"sequencerStarted"}:
            raise AdminStateError(f"invalid config file ({self.path}): only \"sequencerStarted\" is allowed")
        started = doc.get("sequencerStarted")
        if started is not None and not isinstance(started, bool):
            raise AdminStateError(f"invalid config file ({self.path}): sequencerStarted must be true or false")
        return started

    def persist(self, started: bool) -> None:
        data = json.dumps({"sequencerStarted": started}, separators=(",", ":")).encode()
        tmp = self.path + ".tmp"
        try:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), mode=0o755, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as e:
            raise AdminStateError(f"persist sequencer state to {self.path}: {e.strerror}") from None
