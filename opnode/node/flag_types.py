"""The value types of the node's flags, parsed as op-node (urfave/cli, Go) parses them: durations in Go syntax
(``12s``, ``6m24s``, ``500ms``; a bare ``0``), integers in Go's base-0 syntax (``10``, ``0x10``), booleans as
``--flag``, ``--flag=false`` or ``OP_NODE_…=true``, lists comma-separated or repeated. A bad value is a click
``BadParameter`` (one line, exit 2). The flag table is :mod:`opnode.node.flags`."""

from __future__ import annotations

import re

import click

_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> float:
    """Go ``time.ParseDuration``, in seconds: ``1h2m3.5s``, ``-1s``, ``0``; a bare number other than 0 is an
    error ("missing unit in duration")."""
    s = text.strip()
    sign = 1.0
    if s[:1] in "+-" and s:
        sign, s = (-1.0 if s[0] == "-" else 1.0), s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise ValueError(f"invalid duration {text!r}")
    total, pos = 0.0, 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if m is None:
            if re.fullmatch(r"\d+\.?\d*", s[pos:]):
                raise ValueError(f"missing unit in duration {text!r}")
            raise ValueError(f"invalid duration {text!r}")
        total += float(m.group(1)) * _DURATION_UNITS[m.group(2)]
        pos = m.end()
    return sign * total


def format_duration(seconds: float) -> str:
    """Go ``Duration.String`` for whole seconds and milliseconds: ``12s``, ``6m24s``, ``1h0m0s``, ``500ms``."""
    if seconds == 0:
        return "0s"
    if abs(seconds) < 1:
        return f"{seconds * 1000:g}ms"
    neg, s = seconds < 0, abs(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    out = f"{sec:g}s"
    if h or m:
        out = f"{int(m)}m" + out
    if h:
        out = f"{int(h)}h" + out
    return ("-" if neg else "") + out


class Duration(click.ParamType):
    name = "duration"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return parse_duration(value)
        except ValueError as e:
            self.fail(f"{e} (use Go durations like 12s, 6m24s, 500ms)", param, ctx)


class GoInt(click.ParamType):
    """Go ``strconv.Parse(U)Int(s, 0, 64)``: decimal, ``0x``/``0o``/``0b`` prefixes."""

    def __init__(self, signed: bool):
        self.signed = signed
        self.name = "int" if signed else "uint"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            n = value
        else:
            try:
                n = int(str(value).strip(), 0)
            except ValueError:
                self.fail(f"{value!r} is not {'an integer' if self.signed else 'an unsigned integer'}", param, ctx)
        if n < 0 and not self.signed:
            self.fail(f"{value!r} is not an unsigned integer", param, ctx)
        lo, hi = (-(1 << 63), (1 << 63) - 1) if self.signed else (0, (1 << 64) - 1)
        if not lo <= n <= hi:
            self.fail(f"{value!r} is out of range for a {'64-bit integer' if self.signed else 'uint64'}", param, ctx)
        return n


class GoFloat(click.ParamType):
    name = "float"

    def convert(self, value, param, ctx):
        try:
            return float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)


class GoBool(click.ParamType):
    """Go ``strconv.ParseBool``: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False."""

    name = "bool"
    _TRUE = ("1", "t", "T", "TRUE", "true", "True")
    _FALSE = ("0", "f", "F", "FALSE", "false", "False")

    def convert(self, value, param, ctx):
        if isinstance(value, bool):
            return value
        v = str(value).strip()
        if v in self._TRUE:
            return True
        if v in self._FALSE:
            return False
        self.fail(f"{value!r} is not a boolean (true or false)", param, ctx)


class Choice(click.ParamType):
    """One of ``choices``; ``fold`` lower-cases first (op-node lower-cases ``--l1.rpckind`` and log levels)."""

    name = "choice"

    def __init__(self, choices: tuple[str, ...], fold: bool = False, aliases: dict[str, str] | None = None):
        self.choices = choices
        self.fold = fold
        self.aliases = aliases or {}

    def convert(self, value, param, ctx):
        v = str(value).strip()
        if self.fold:
            v = v.lower()
        v = self.aliases.get(v, v)
        if v not in self.choices:
            self.fail(f"{value!r} is not one of {', '.join(self.choices)}", param, ctx)
        return v


class StringList(click.ParamType):
    """Comma-separated values (urfave ``StringSliceFlag``); repeating the flag appends."""

    name = "list"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        return tuple(x.strip() for x in str(value).split(",") if x.strip())


DURATION, UINT, INT, FLOAT, BOOL, TEXT, LIST = Duration(), GoInt(False), GoInt(True), GoFloat(), GoBool(), \
    click.STRING, StringList()
