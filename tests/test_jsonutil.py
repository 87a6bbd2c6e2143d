"""Bounded JSON parsing: deep nesting is refused before the C decoder can overflow the stack."""

import json
import sys

import pytest

from derivation.protocol.errors import ParseError
from derivation.protocol.jsonutil import JSONTooDeep, loads_bounded


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


def test_string_removal_is_one_pass_on_the_probe_body():
    """The probe (issue 18): a quote followed by many escaped quotes and no closing quote, behind enough brackets to
    trigger the depth scan. The old pattern re-scanned to the end of the input from every quote (quadratic: a 64 KB
    body stalled the node for 17 s). The scan is linear when every match attempt that starts at a quote succeeds
    (no failed attempt, no rescan): check that property on the probe and on its variants, then the verdicts."""
    from derivation.protocol.jsonutil import _JSON_STRINGS

    for body in (b"[" * 300 + b'"' + b'\\"' * 32_000, b'"' + b'\\"' * 1000 + b"\\", b'["a\\\\"' + b'\\"' * 500,
                 b'{"k":"v"}' + b'"\\"' * 300):
        pos, attempts = 0, 0
        while (i := body.find(b'"', pos)) >= 0:
            m = _JSON_STRINGS.match(body, i)
            attempts += 1
            assert m is not None, f"no match from the quote at {i}: the scan would retry from there"
            pos = m.end()
        assert attempts <= body.count(b'"')
    with pytest.raises(JSONTooDeep):
        loads_bounded(b"[" * 300 + b'"' + b'\\"' * 32_000)
    with pytest.raises(ValueError):  # shallow: no scan, json.loads says it is not JSON
        loads_bounded(b'["' + b'\\"' * 32_000)
    assert loads_bounded(b"[" * 250 + b'"\\"[[\\\\"' + b"]" * 250) is not None


def test_a_five_mib_probe_body_is_refused():
    body = b"[" * 300 + b'"' + b'\\"' * (5 * 1024 * 1024 // 2)
    with pytest.raises(JSONTooDeep):
        loads_bounded(body)
