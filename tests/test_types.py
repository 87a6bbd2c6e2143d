"""The type checker's verdict (issue 15): ``mypy`` run with the project's own config (pyproject.toml
``[tool.mypy]``: strict on derivation/, the JSON-RPC library and the node's runtime) finds nothing, so ``make test`` and CI enforce what ``make lint`` checks."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _mypy_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]


def test_config_is_strict_on_derivation():
    cfg = _mypy_config()
    assert "derivation" in cfg["files"]
    strict = [o for o in cfg.get("overrides", []) if o.get("strict")]
    assert any("derivation.*" in o["module"] for o in strict), strict


def test_config_is_strict_on_the_node_runtime():
    cfg = _mypy_config()
    assert "opnode/node/runtime" in cfg["files"]
    strict = [o for o in cfg.get("overrides", []) if o.get("strict")]
    assert any("opnode.node.runtime.*" in o["module"] for o in strict), strict


def test_mypy_finds_no_errors():
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, f"mypy failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}"
