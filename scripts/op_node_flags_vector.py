"""Write spec-vectors/op_node_flags.json: op-node's flag names, aliases, environment variables and literal
defaults, read out of op-node's Go source (urfave/cli flag literals) in a local git mirror of
ethereum-optimism/optimism.

Usage: python scripts/op_node_flags_vector.py /path/to/optimism.git [commit]
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

FILES = ["op-node/flags/flags.go", "op-node/flags/p2p_flags.go", "op-service/flags/flags.go",
         "op-service/log/cli.go", "op-service/oppprof/cli.go"]
OUT = Path(__file__).resolve().parent.parent / "spec-vectors" / "op_node_flags.json"
PREFIX = "OP_NODE"

_FLAG = re.compile(r"&cli\.(\w+)Flag\{(.*?)\n\t+\},?[ \t]*\n", re.S)
_CONST = re.compile(r'^\s*(\w+)\s*=\s*"([^"]*)"', re.M)
_DURATION = re.compile(r"^(?:(\d+)\s*\*\s*)?time\.(Second|Minute|Hour|Millisecond)(?:\s*\*\s*(\d+))?(?:\s*\*\s*(\d+))?$")
_UNIT = {"Millisecond": 0.001, "Second": 1, "Minute": 60, "Hour": 3600}


def _field(body: str, name: str) -> str | None:
    m = re.search(rf'^\s*{name}:\s*("[^"\n]*"|[^\n]*?),?[ \t]*(?://[^\n]*)?$', body, re.M)
    return None if m is None else m.group(1).rstrip(",").strip()


def _strings(expr: str, consts: dict[str, str]) -> list[str]:
    return [m.group(1) or consts.get(m.group(2), m.group(2)) for m in re.finditer(r'"([^"]*)"|\b([A-Z]\w+)\b', expr)]


def _envvars(expr: str | None) -> list[str]:
    if expr is None:
        return []
    names = re.findall(r'"([A-Z0-9_]+)"', expr)
    if expr.startswith("p2pEnv"):
        return [f"{PREFIX}_P2P_{n}" for n in names]
    return [f"{PREFIX}_{n}" for n in names]


def _default(kind: str, expr: str | None):
    """The literal default, or None when it is not a literal (an expression of Go values)."""
    if expr is None:
        return {"Bool": False, "String": "", "StringSlice": []}.get(kind)
    if re.fullmatch(r'"[^"]*"', expr):
        return expr[1:-1]
    if re.fullmatch(r"-?\d+", expr):
        return int(expr)
    if expr in ("true", "false"):
        return expr == "true"
    m = _DURATION.match(expr)
    if m and kind == "Duration":
        secs = _UNIT[m.group(2)]
        for g in (m.group(1), m.group(3), m.group(4)):
            secs *= int(g) if g else 1
        return {"seconds": secs}
    return None


def extract(git_dir: str, commit: str) -> dict:
    flags = {}
    for path in FILES:
        src = subprocess.run(["git", "-C", git_dir, "show", f"{commit}:{path}"], check=True, capture_output=True,
                             text=True).stdout
        consts = dict(_CONST.findall(src))
        for kind, body in _FLAG.findall(src):
            name_expr = _field(body, "Name")
            if name_expr is None:
                continue
            name = _strings(name_expr, consts)[0]
            aliases = _strings(_field(body, "Aliases") or "", consts)
            hidden = (_field(body, "Hidden") or "false") == "true"
            flags[name] = {"type": kind, "aliases": [a for a in aliases if a not in ("string",)],
                           "env": _envvars(_field(body, "EnvVars")), "default": _default(kind, _field(body, "Value")),
                           "hidden": hidden, "file": path}
    return flags


def main(argv: list[str]) -> None:
    git_dir = argv[0]
    commit = argv[1] if len(argv) > 1 else "HEAD"
    full = subprocess.run(["git", "-C", git_dir, "rev-parse", commit], check=True, capture_output=True,
                          text=True).stdout.strip()
    flags = extract(git_dir, full)
    doc = {
        "description": "op-node's CLI flags as declared in its Go source (urfave/cli): name, aliases, environment "
                       "variables, and the default where it is a literal (null where the default is a Go "
                       "expression such as an enum value). Extracted by scripts/op_node_flags_vector.py.",
        "provenance": [{"repo": "ethereum-optimism/optimism", "path": p, "commit": full,
                        "proves": "flag names, OP_NODE_* environment variables and literal defaults"} for p in FILES],
        "flags": dict(sorted(flags.items())),
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(flags)} flags -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
