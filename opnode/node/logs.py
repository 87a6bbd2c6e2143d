"""Structured logs for the whole process, in op-node's formats (op-service/log/cli.go on go-ethereum's handlers).

``--log.level`` trace|debug|info|warn|error|crit (``trce``, ``dbug``, ``eror`` and capitals accepted, as op-node);
``--log.format``:
- ``logfmt`` (and ``text`` without colour, op-node's default): ``t=2024-10-25T12:00:00+0000 lvl=info msg="Derived
  block" number=5 hash=0xab…`` (go-ethereum's logfmt handler: slog's text handler, time ``2006-01-02T15:04:05-0700``);
- ``terminal`` (and ``text`` with ``--log.color``): ``INFO [10-25|12:00:00.000] Derived block   number=5 …`` with the
  message padded to 40 columns, coloured level when ``--log.color``;
- ``json``: one object per line, ``{"t": RFC 3339 with nanoseconds, "lvl": "info", "msg": …, key: value…}``.

Block references (anything with ``hash``, ``number`` and ``to_json``: op-service/eth/id.go's ``BlockID``,
``L1BlockRef``, ``L2BlockRef``) render as go-ethereum renders them: ``String()`` in logfmt (``0x<hash>:<number>``),
``TerminalString()`` in terminal (``0xabcdef..123456:<number>``), ``json.Marshal`` (the RPC object) in json.

Code logs through :func:`get_logger`: ``log.info("Derived block", number=n, hash=h)``; ``log.new(chain=10)`` binds
context. Modules that use stdlib ``logging`` directly (``%``-style messages) come out in the same format. One handler
on the root logger serves every trio task (stdlib handlers take a lock per record); :func:`set_level` changes the
level at run time (``admin_setLogLevel``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from dataclasses import dataclass

TRACE = 5
CRIT = logging.CRITICAL
LEVELS = {"trace": TRACE, "debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
          "error": logging.ERROR, "crit": CRIT}
_LEVEL_ALIASES = {"trce": "trace", "dbug": "debug", "eror": "error", "warning": "warn", "critical": "crit"}
FORMATS = ("text", "terminal", "logfmt", "json")
_NAMES = {TRACE: "trace", logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn",
          logging.ERROR: "error", CRIT: "crit"}
_ALIGNED = {TRACE: "TRACE", logging.DEBUG: "DEBUG", logging.INFO: "INFO ", logging.WARNING: "WARN ",
            logging.ERROR: "ERROR", CRIT: "CRIT "}
_COLOURS = {TRACE: "\x1b[34m", logging.DEBUG: "\x1b[36m", logging.INFO: "\x1b[32m", logging.WARNING: "\x1b[33m",
            logging.ERROR: "\x1b[31m", CRIT: "\x1b[35m"}
TERMINAL_MSG_WIDTH = 40  # go-ethereum termMsgJust

logging.addLevelName(TRACE, "TRACE")


class LogLevelError(ValueError):
    """A log level name that is not one of trace, debug, info, warn, error, crit."""


def parse_level(name: str) -> int:
    """op-node's ``LevelFromString``: case-insensitive, with go-ethereum's four-letter aliases."""
    key = str(name).strip().lower()
    key = _LEVEL_ALIASES.get(key, key)
    if key not in LEVELS:
        raise LogLevelError(f"unknown level: {name}")
    return LEVELS[key]


def level_name(level: int) -> str:
    return _NAMES.get(_bucket(level), "unknown")


def _bucket(level: int) -> int:
    """The named level a stdlib level falls into (logging.WARNING+5 is still a warning)."""
    best = TRACE
    for lv in sorted(_NAMES):
        if level >= lv:
            best = lv
    return best


@dataclass(frozen=True, slots=True)
class LogConfig:
    level: str = "info"  # --log.level
    format: str = "text"  # --log.format
    color: bool = False  # --log.color
    pid: bool = False  # --log.pid

    def __post_init__(self):
        parse_level(self.level)
        if self.format not in FORMATS:
            raise LogLevelError(f"unrecognized log-format: {self.format!r} (one of: {', '.join(FORMATS)})")


# ----------------------------------------------------------------------------------------------------- rendering


def _is_block_ref(v) -> bool:
    return isinstance(getattr(v, "hash", None), bytes) and isinstance(getattr(v, "number", None), int) \
        and hasattr(v, "to_json")


def _block_ref_text(v, terminal: bool) -> str:
    """op-service/eth/id.go: ``String()`` is ``hash:number``; ``TerminalString()`` abbreviates the hash as
    go-ethereum's ``common.Hash.TerminalString`` (first 3 and last 3 bytes)."""
    h = v.hash.hex()
    return f"0x{h[:6]}..{h[-6:]}:{v.number}" if terminal else f"0x{h}:{v.number}"


def _logfmt_value(v, terminal: bool = False) -> str:
    """slog's text handler quoting: bare when the text needs no quotes, else a Go-quoted string."""
    s = _block_ref_text(v, terminal) if _is_block_ref(v) else _text(v)
    if s and all(c > " " and c not in '="\\' and c.isprintable() for c in s):
        return s
    return json.dumps(s, ensure_ascii=False)


def _text(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "0x" + bytes(v).hex()
    if v is None:
        return "<nil>"
    if isinstance(v, float) and math.isfinite(v) and v.is_integer() and abs(v) < 1e21:
        return str(int(v))
    return str(v)


def _json_value(v):
    if isinstance(v, (bool, int, str)) or v is None:
        return v
    if _is_block_ref(v):
        return v.to_json()
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "0x" + bytes(v).hex()
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    return str(v)


def _fields(record: logging.LogRecord) -> list[tuple[str, object]]:
    out = list(getattr(record, "kv", ()))
    if record.exc_info and record.exc_info[1] is not None:
        out.append(("err", f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"))
    return out


class _Formatter(logging.Formatter):
    def __init__(self, fmt: str, color: bool, pid: bool):
        super().__init__()
        self.kind = "terminal" if fmt == "terminal" or (fmt == "text" and color) else fmt
        if self.kind == "text":
            self.kind = "logfmt"
        self.color = color
        self.pid = pid

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        fields = _fields(record)
        if self.pid:
            fields.insert(0, ("pid", os.getpid()))
        lvl = _bucket(record.levelno)
        if self.kind == "json":
            ns = getattr(record, "created_ns", int(record.created * 1e9))
            obj = {"t": _rfc3339_nano(ns), "lvl": _NAMES[lvl], "msg": msg}
            for k, v in fields:
                obj[k] = _json_value(v)
            return json.dumps(obj, ensure_ascii=False)
        if self.kind == "logfmt":
            t = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(record.created))
            parts = [f"t={t}", f"lvl={_NAMES[lvl]}", f"msg={_logfmt_value(msg)}"]
            parts += [f"{_key(k)}={_logfmt_value(v)}" for k, v in fields]
            return " ".join(parts)
        # terminal
        t = time.strftime("%m-%d|%H:%M:%S", time.localtime(record.created)) + f".{int(record.msecs):03d}"
        level = _ALIGNED[lvl]
        if self.color:
            level = f"{_COLOURS[lvl]}{level}\x1b[0m"
        line = f"{level}[{t}] {msg}"
        if fields:
            line += " " * max(0, TERMINAL_MSG_WIDTH - len(msg))
            line += " " + " ".join(f"{_key(k)}={_logfmt_value(v, terminal=True)}" for k, v in fields)
        return line


def _key(k) -> str:
    s = str(k)
    return s if s and all(c > " " and c not in '="' for c in s) else json.dumps(s)


def _rfc3339_nano(ns: int) -> str:
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(secs))
    tz = time.strftime("%z", time.localtime(secs))
    tz = "Z" if tz in ("+0000", "-0000") else f"{tz[:3]}:{tz[3:]}"
    fraction = f".{frac:09d}".rstrip("0").rstrip(".")
    return f"{base}{fraction}{tz}"


class _Record(logging.LogRecord):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.created_ns = time.time_ns()


# ----------------------------------------------------------------------------------------------------- loggers


class Logger:
    """A logger with key-value context: ``log.info("msg", key=value)``; ``new(**ctx)`` returns a child."""

    __slots__ = ("_log", "_ctx")

    def __init__(self, base: logging.Logger, ctx: tuple[tuple[str, object], ...] = ()):
        self._log = base
        self._ctx = ctx

    def new(self, **ctx) -> Logger:
        return Logger(self._log, self._ctx + tuple(ctx.items()))

    def enabled(self, level: int) -> bool:
        return self._log.isEnabledFor(level)

    def log(self, level: int, msg: str, /, exc_info=None, **kv) -> None:
        if self._log.isEnabledFor(level):
            self._log.log(level, "%s", msg, exc_info=exc_info, extra={"kv": self._ctx + tuple(kv.items())})

    def trace(self, msg: str, /, **kv) -> None:
        self.log(TRACE, msg, **kv)

    def debug(self, msg: str, /, **kv) -> None:
        self.log(logging.DEBUG, msg, **kv)

    def info(self, msg: str, /, **kv) -> None:
        self.log(logging.INFO, msg, **kv)

    def warn(self, msg: str, /, **kv) -> None:
        self.log(logging.WARNING, msg, **kv)

    warning = warn

    def error(self, msg: str, /, exc_info=None, **kv) -> None:
        self.log(logging.ERROR, msg, exc_info=exc_info, **kv)

    def crit(self, msg: str, /, exc_info=None, **kv) -> None:
        self.log(CRIT, msg, exc_info=exc_info, **kv)


def get_logger(name: str, **ctx) -> Logger:
    """A structured logger under ``name`` (``opnode.driver``); output follows :func:`setup_logging`."""
    return Logger(logging.getLogger(name), tuple(ctx.items()))


_handler: logging.Handler | None = None
# httpx logs every request at INFO; the node makes thousands a minute.
_CHATTY_LIBRARIES = ("httpx", "httpcore")


def setup_logging(cfg: LogConfig, stream=None) -> logging.Handler:
    """Install the process's one log handler on the root logger (replacing an earlier one) at ``cfg.level``.

    Records go to ``stream`` (stderr by default: stdout stays free for command output)."""
    global _handler
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    h = logging.StreamHandler(sys.stderr if stream is None else stream)
    h.setFormatter(_Formatter(cfg.format, cfg.color, cfg.pid))
    root.addHandler(h)
    _handler = h
    logging.setLogRecordFactory(_Record)
    for noisy in _CHATTY_LIBRARIES:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    set_level(cfg.level)
    return h


def set_level(level: str | int) -> None:
    """Change the level of every logger at run time (op-node ``admin_setLogLevel``)."""
    lv = parse_level(level) if isinstance(level, str) else int(level)
    logging.getLogger().setLevel(lv)


def current_level() -> str:
    return level_name(logging.getLogger().level)
