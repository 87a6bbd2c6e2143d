"""Bounded JSON parsing: deep nesting is refused before the C decoder can overflow the stack."""

import json
import sys

import pytest

from derivation.errors import ParseError
from derivation.jsonutil import JSONTooDeep, loads_bounded


def test_ordinary_json_is_parsed_as_json_loads_does():
    for doc in ('{"a": [1, 2, {"b": "[[[{{{"}]}', '"x"', "5", '[' * 256 + ']' * 256, '{"s": "\\"[[[["}'):
        assert loads_bounded(doc) == json.loads(doc)
        assert loads_bounded(doc.encode()) == json.loads(doc)


@pytest.mark.parametrize("doc", [b"[" * 257 + b"]" * 257, b"[]" * 1000 + b"{\"a\":" * 300, b"[" * 2_000_000])
def test_deep_nesting_is_refused(doc):
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(max(before, 100_000))  # as py-evm and py_ecc leave it
    try:
        with pytest.raises(JSONTooDeep):
            loads_bounded(doc)
    finally:
        sys.setrecursionlimit(before)
    assert issubclass(JSONTooDeep, ParseError)


def test_brackets_inside_strings_do_not_count():
    doc = json.dumps({"k": "[" * 10_000, "l": ["{" * 5000]})
    assert loads_bounded(doc)["k"] == "[" * 10_000
