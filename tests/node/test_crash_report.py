"""A crash (a bug, not bad input) prints the real error and where it was raised, even when trio wraps it in
exception groups (issue 18: the node printed only "ExceptionGroup: Exceptions from Trio nursery (1 sub-exception)")."""

import pytest
import trio

from opnode import cli


def _crash_inside_nurseries():
    async def boom():
        await trio.sleep(0)
        raise RuntimeError("engine answered nonsense")

    async def main():
        async with trio.open_nursery() as outer:
            async with trio.open_nursery() as inner:
                inner.start_soon(boom)
            outer.start_soon(trio.sleep, 0)

    trio.run(main)


def test_describe_crash_opens_exception_groups_down_to_the_error():
    with pytest.raises(BaseExceptionGroup) as info:
        _crash_inside_nurseries()
    lines = cli.describe_crash(info.value)
    assert len(lines) == 1
    assert lines[0].startswith("RuntimeError: engine answered nonsense (at tests/node/test_crash_report.py:")
    assert lines[0].endswith(" in boom)")


def test_main_prints_each_error_of_a_crash(monkeypatch, capsys):
    def crash(**_):
        raise ExceptionGroup("two", [ValueError("first"), KeyError("second")])

    monkeypatch.setattr(cli.cli, "main", crash)
    monkeypatch.delenv("OPNODE_DEBUG", raising=False)
    with pytest.raises(SystemExit) as e:
        cli.main([])
    assert e.value.code == 1
    err = capsys.readouterr().err.splitlines()
    assert err[:2] == ["opnode: internal error: ValueError: first", "opnode: internal error: KeyError: 'second'"]
    assert "ExceptionGroup" not in "\n".join(err)
