"""``start``: run an ``opnode`` command line with an environment through the real CLI (opnode.cli.main: routing,
flag and OP_NODE_* parsing, config building, start-up notices) up to the point where the node would start."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

import pytest


@dataclass
class Started:
    code: int
    err: list[str]  # stderr lines (one-line errors; the json log records of the start-up notices)
    config: object | None  # the NodeConfig the node would have run with

    @property
    def warnings(self) -> list[str]:
        """The messages of the WARN records (json or logfmt lines)."""
        out = []
        for line in self.err:
            if line.startswith("{"):
                r = json.loads(line)
                if r["lvl"] == "warn":
                    out.append(r["msg"])
            elif m := re.match(r't=\S+ lvl=warn msg=("(?:[^"\\]|\\.)*"|\S+)', line):
                out.append(json.loads(m.group(1)) if m.group(1).startswith('"') else m.group(1))
        return out


@pytest.fixture
def start(monkeypatch, capsys):
    import opnode.node.runtime.node as runtime
    from opnode.cli import main

    def run(argv: list[str], env: dict[str, str] | None = None) -> Started:
        started: list = []
        with monkeypatch.context() as mp:
            mp.setattr(runtime, "run_node", lambda cfg: started.append(cfg) or 0)
            for k in list(os.environ):
                if k.startswith("OP_NODE_"):
                    mp.delenv(k)
            for k, v in (env or {}).items():
                mp.setenv(k, v)
            with pytest.raises(SystemExit) as e:
                main(list(argv))
        err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
        return Started(e.value.code, err, started[0] if started else None)

    return run
