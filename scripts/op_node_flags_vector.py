"""Write spec-vectors/op_node_flags.json: every flag the op-node binary accepts (name, aliases, environment
variables, literal default, hidden), read out of op-node's Go source (urfave/cli flag literals) in a local git mirror
of the monorepo or one of its forks.

op-node's flag list is ``op-node/flags.Flags``: its own flags.go and p2p_flags.go (with op-service/signer and its
op-service/tls flags), op-service's log, pprof, metrics, rpc (with op-node's ``rpcDefaults``), the fork overrides
and network/rollup-config flags of op-service/flags, and op-alt-da's flags (op-node/flags/flags.go ``init``).

Usage: python scripts/op_node_flags_vector.py /path/to/optimism.git [commit] [repo-name]

The 2026 vector was written from okx/optimism@7573e762 (2026-06-30), a fork that syncs upstream op-node releases
(its op-node/flags/flags.go was last synced from upstream v1.17.0 on 2026-04-30, after upstream's #20288
``--l1.beacon.slot-duration-override`` and #19972 ``--syncmode.offset-el-safe``); the fork's own additions, marked
``XLayer`` in its source, are left out (:data:`FORK_ONLY`).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

# file -> (environment-variable prefix after OP_NODE, flag-name prefix for prefixFunc())
FILES = {
    "op-node/flags/flags.go": ("", ""),
    "op-node/flags/p2p_flags.go": ("", ""),
    "op-service/signer/cli.go": ("_SIGNER", ""),
    "op-service/tls/cli.go": ("_SIGNER", "signer"),  # only included through signer.CLIFlags
    "op-service/log/cli.go": ("", ""),
    "op-service/oppprof/cli.go": ("", ""),
    "op-service/metrics/cli.go": ("", ""),
    "op-service/rpc/cli.go": ("", ""),
    "op-service/flags/flags.go": ("", ""),
    "op-alt-da/cli.go": ("", ""),
}
FORKS = "op-core/forks/forks.go"
# Flags a fork added on top of upstream op-node (marked "XLayer" in okx/optimism's source).
FORK_ONLY = {"l2.follow.source.skip-l1-check"}
OUT = Path(__file__).resolve().parent.parent / "spec-vectors" / "op_node_flags.json"
PREFIX = "OP_NODE"

_FLAG = re.compile(r"&cli\.(\w+)Flag\{(.*?)\n\t+\},?[ \t]*\n", re.S)
_CONST = re.compile(r'^\s*(\w+)\s*(?:\w+\s*)?=\s*("[^"]*"|-?\d+|true|false)\s*(?://.*)?$', re.M)
_DURATION = re.compile(r"^(?:(\d+)\s*\*\s*)?time\.(Second|Minute|Hour|Millisecond)(?:\s*\*\s*(\d+))?"
                       r"(?:\s*\*\s*(\d+))?$")
_UNIT = {"Millisecond": 0.001, "Second": 1, "Minute": 60, "Hour": 3600}


def _field(body: str, name: str) -> str | None:
    m = re.search(rf'^\s*{name}:\s*("[^"\n]*"|[^\n]*?),?[ \t]*(?://[^\n]*)?$', body, re.M)
    return None if m is None else m.group(1).rstrip(",").strip()


def _consts(src: str) -> dict[str, str]:
    calls = re.findall(r'^\s*(\w+)\s*=\s*(altDAFlags\("[^"]+"\))', src, re.M)
    return {k: v for k, v in _CONST.findall(src)} | dict(calls)


def _literal(expr: str, consts: dict[str, str]) -> str:
    return consts.get(expr, expr)


def _name(expr: str, consts: dict[str, str], flag_prefix: str) -> str:
    expr = _literal(expr, consts)
    m = re.fullmatch(r'altDAFlags\("([^"]+)"\)', expr)
    if m:
        return "altda." + m.group(1)
    m = re.fullmatch(r"prefixFunc\((\w+)\)", expr)
    if m:
        return f"{flag_prefix}.{json.loads(consts[m.group(1)])}".strip(".")
    return json.loads(_literal(expr, consts))


def _envvars(expr: str | None, env_prefix: str) -> list[str]:
    if expr is None:
        return []
    names = re.findall(r'"([A-Z0-9_]+)"', expr)
    if expr.startswith("p2pEnv"):
        return [f"{PREFIX}_P2P_{n}" for n in names]
    if expr.startswith("altDAEnvs"):
        return [f"{PREFIX}_ALTDA_{n}" for n in names]
    return [f"{PREFIX}{env_prefix}_{n}" for n in names]


def _default(kind: str, expr: str | None, consts: dict[str, str]):
    """The literal default, or None when it is not a literal (an expression of Go values)."""
    if expr is None:
        return {"Bool": False, "String": "", "StringSlice": [], "Path": ""}.get(kind)
    expr = _literal(expr, consts)
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
    if kind == "Duration" and expr.startswith("time.Duration(0)"):
        return {"seconds": 0}
    return None


def _show(git_dir: str, commit: str, path: str) -> str:
    return subprocess.run(["git", "-C", git_dir, "show", f"{commit}:{path}"], check=True, capture_output=True,
                          text=True).stdout


def _rpc_defaults(flags_go: str) -> dict[str, str]:
    """op-node's ``rpcDefaults`` (oprpc.CLIConfig) that op-service/rpc's flags take their defaults from."""
    m = re.search(r"var rpcDefaults = oprpc\.CLIConfig\{(.*?)\n\}", flags_go, re.S)
    assert m, "rpcDefaults not found in op-node/flags/flags.go"
    return {f"cfg.{k}": v for k, v in re.findall(r"(\w+):\s*([^,\n]+),", m.group(1))}


def _overrides(forks_go: str) -> list[str]:
    """op-service/flags ``OverridableForks``: the mainline forks from Canyon on, then the optional forks."""
    def names(var: str) -> list[str]:
        body = re.search(rf"var {var} = \[\]Name\{{(.*?)\n\}}", forks_go, re.S).group(1)
        consts = dict(re.findall(r'^\s*(\w+)\s+Name\s*=\s*"([^"]*)"', forks_go, re.M))
        return [consts[n] for n in re.findall(r"^\s*(\w+),", body, re.M)]
    mainline = names("All")
    return mainline[mainline.index("canyon"):] + names("AllOpt")


def extract(git_dir: str, commit: str) -> dict:
    flags: dict[str, dict] = {}
    flags_go = _show(git_dir, commit, "op-node/flags/flags.go")
    rpc_defaults = _rpc_defaults(flags_go)
    for path, (env_prefix, flag_prefix) in FILES.items():
        src = _show(git_dir, commit, path)
        consts = _consts(src) | (rpc_defaults if path == "op-service/rpc/cli.go" else {})
        for kind, body in _FLAG.findall(src):
            name_expr = _field(body, "Name")
            if name_expr is None:
                continue
            if name_expr == "OverrideName(fork)":
                for fork in _overrides(_show(git_dir, commit, FORKS)):
                    flags[f"override.{fork}"] = {"type": kind, "aliases": [],
                                                 "env": [f"{PREFIX}_OVERRIDE_{fork.upper()}"], "default": None,
                                                 "hidden": False, "file": path}
                continue
            name = _name(name_expr, consts, flag_prefix)
            if name in FORK_ONLY:
                continue
            aliases = re.findall(r'"([^"]*)"', _field(body, "Aliases") or "")
            hidden = (_field(body, "Hidden") or "false") == "true"
            flags[name] = {"type": kind, "aliases": aliases, "env": _envvars(_field(body, "EnvVars"), env_prefix),
                           "default": _default(kind, _field(body, "Value"), consts), "hidden": hidden, "file": path}
    return flags


def main(argv: list[str]) -> None:
    git_dir = argv[0]
    commit = argv[1] if len(argv) > 1 else "HEAD"
    repo = argv[2] if len(argv) > 2 else "ethereum-optimism/optimism"
    full = subprocess.run(["git", "-C", git_dir, "rev-parse", commit], check=True, capture_output=True,
                          text=True).stdout.strip()
    date = subprocess.run(["git", "-C", git_dir, "show", "-s", "--format=%cs", full], check=True, capture_output=True,
                          text=True).stdout.strip()
    flags = extract(git_dir, full)
    doc = {
        "description": "Every flag op-node accepts (op-node/flags.Flags) as declared in its Go source (urfave/cli): "
                       "name, aliases, environment variables, hidden, and the default where it is a literal (null "
                       "where the default is a Go expression such as an enum value). Extracted by "
                       "scripts/op_node_flags_vector.py; flags a fork added on top of upstream are left out: "
                       + ", ".join(sorted(FORK_ONLY)) + ".",
        "provenance": [{"repo": repo, "path": p, "commit": full, "date": date,
                        "proves": "flag names, OP_NODE_* environment variables and literal defaults"}
                       for p in (*FILES, FORKS)],
        "flags": dict(sorted(flags.items())),
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(flags)} flags -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
