"""Structured logs in op-node's formats: logfmt (text), terminal and json; levels and run-time level changes."""

from __future__ import annotations

import json
import logging
import re

import pytest

from opnode.node import logs


def test_logfmt_is_the_default_text_format(capture):
    buf = capture()
    log = logs.get_logger("opnode.test")
    log.info("Derived block", number=5, hash=b"\xab" * 4, empty="", spaced="a b", ok=True, ratio=0.5)
    line = buf.getvalue().strip()
    assert re.fullmatch(r't=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} lvl=info msg="Derived block" number=5 '
                        r'hash=0xabababab empty="" spaced="a b" ok=true ratio=0.5', line), line


def test_terminal_format_pads_the_message(capture):
    buf = capture(format="terminal")
    logs.get_logger("opnode.test").warn("Short", n=1)
    line = buf.getvalue().rstrip("\n")
    assert re.fullmatch(r"WARN \[\d\d-\d\d\|\d\d:\d\d:\d\d\.\d{3}\] Short {35} n=1", line), line


def test_text_with_color_is_coloured_terminal(capture):
    buf = capture(format="text", color=True)
    logs.get_logger("opnode.test").error("Broke", why="x")
    assert buf.getvalue().startswith("\x1b[31mERROR\x1b[0m[")


def test_json_format(capture):
    buf = capture(format="json", level="debug", pid=True)
    log = logs.get_logger("opnode.test", chain=10).new(stage="driver")
    log.debug("Reset", reason="start-up", heads=[1, 2], hash=b"\x01\x02")
    obj = json.loads(buf.getvalue())
    assert list(obj)[:3] == ["t", "lvl", "msg"]
    assert obj["lvl"] == "debug" and obj["msg"] == "Reset"
    assert obj["chain"] == 10 and obj["stage"] == "driver" and obj["reason"] == "start-up"
    assert obj["heads"] == [1, 2] and obj["hash"] == "0x0102" and isinstance(obj["pid"], int)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", obj["t"])


def test_stdlib_loggers_and_exceptions_share_the_format(capture):
    buf = capture(format="json")
    logging.getLogger("opnode.driver").warning("reset needed: %s", "L1 reorg")
    try:
        raise ValueError("boom")
    except ValueError:
        logs.get_logger("x").error("Failed", exc_info=True)
    first, second = (json.loads(x) for x in buf.getvalue().splitlines())
    assert first["msg"] == "reset needed: L1 reorg" and first["lvl"] == "warn"
    assert second["err"] == "ValueError: boom" and second["lvl"] == "error"


def test_levels_filter_and_change_at_run_time(capture):
    buf = capture(level="warn")
    log = logs.get_logger("opnode.test")
    log.info("hidden")
    log.trace("hidden too")
    log.crit("shown")
    logs.set_level("TRCE")
    assert logs.current_level() == "trace"
    log.trace("now shown")
    lines = buf.getvalue().splitlines()
    assert [re.search(r'msg=("[^"]*"|\S+)', x).group(1) for x in lines] == ["shown", '"now shown"']
    assert "lvl=crit" in lines[0] and "lvl=trace" in lines[1]


@pytest.mark.parametrize("name,level", [("trace", 5), ("DEBUG", 10), ("dbug", 10), ("info", 20), ("Warn", 30),
                                        ("eror", 40), ("error", 40), ("crit", 50)])
def test_parse_level(name, level):
    assert logs.parse_level(name) == level


def test_bad_level_and_format():
    with pytest.raises(logs.LogLevelError, match="unknown level: loud"):
        logs.parse_level("loud")
    with pytest.raises(logs.LogLevelError, match="unrecognized log-format"):
        logs.LogConfig(format="xml")
