"""Parsing untrusted JSON without crashing the process.

py-evm and py_ecc raise Python's recursion limit to 100000 when they are imported (so does anything importing
them: the engine, eth-account). The C JSON decoder then no longer stops at the usual limit of 1000, and a body of
100000 ``[`` overflows the C stack: a segfault, not an exception. :func:`loads_bounded` refuses deep nesting before
parsing; every JSON that comes from the network (RPC requests and responses, beacon answers) should go through it.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import TypeAlias, cast

from derivation.protocol.errors import ParseError

# What ``json.loads`` builds; values read from it are checked (from_hex, parse_quantity, isinstance) where used.
JSONValue: TypeAlias = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]
JSONObject: TypeAlias = dict[str, JSONValue]

MAX_JSON_DEPTH = 256
# A JSON string, or an unterminated one running to the end of the input. Possessive loops and the end-of-input
# alternative make every match succeed from the first quote it tries, so one left-to-right pass removes every string
# in linear time (the old pattern re-scanned to the end from each quote of '"\\"\\"...': quadratic).
_JSON_STRINGS = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKET_STEP = [0] * 256
for _b in b"[{":
    _BRACKET_STEP[_b] = 1
for _b in b"]}":
    _BRACKET_STEP[_b] = -1


class JSONTooDeep(ParseError):
    """JSON nested deeper than :data:`MAX_JSON_DEPTH`."""


def loads_bounded(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> JSONValue:
    """``json.loads`` of ``data`` unless it nests deeper than ``max_depth`` (:class:`JSONTooDeep`); the scan costs
    about as much as the parse and runs only when there are more brackets than ``max_depth``."""
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if raw.count(b"[") + raw.count(b"{") > max_depth:  # only then can it be too deep
        brackets = _JSON_STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS)
        if max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0) > max_depth:
            raise JSONTooDeep(f"JSON nested deeper than {max_depth} levels")
    return cast(JSONValue, json.loads(raw))  # json.loads returns Any, but only ever builds JSONValue's types
