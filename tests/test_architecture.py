"""The import rules of ARCHITECTURE.md, checked over every import statement (function-level ones included):

- ``derivation`` imports nothing of ``opnode``, ``engine`` or ``p2p`` (sans-IO core);
- ``opnode.jsonrpc`` (the one JSON-RPC client, server toolkit, RpcError and JWT) is a library: of this project it
  imports only ``derivation``; the node, both sides of ``engine`` and the tools may import it (``p2p`` does not:
  it stays derivation-only);
- ``p2p`` imports only ``derivation`` of this project;
- the node (``opnode.node``, the node side of ``engine``, ``p2p``, ``derivation``) never imports the execution client
  (``engine.execution``), the tools (``opnode.tools``), the CLI or ``opnode.testing``;
- ``engine.execution`` imports neither the node nor the tools (of ``opnode`` only ``opnode.jsonrpc``);
- the supernode (``opnode.supernode``) is the node's kind: the same rules as the node, and the node never imports it;
- tools may import the node, never the reverse; nothing but the tests imports ``tests``.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("derivation", "engine", "opnode", "p2p", "tests", "bench", "fuzz")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return {m for m in out if m.split(".")[0] in PROJECT}


def _under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


MODULES = {_module(p): _imports(p) for top in PROJECT for p in (ROOT / top).rglob("*.py")
           if "__pycache__" not in p.parts and "corpus" not in p.parts}

NODE_SIDE_ENGINE = ("engine.client", "engine.controller", "engine.consolidation", "engine.finality")
LIBRARY = "opnode.jsonrpc"
RULES = [
    ("derivation", lambda m: _under(m, "derivation"), lambda i: _under(i, "opnode", "engine", "p2p", "tests")),
    ("jsonrpc library", lambda m: _under(m, LIBRARY),
     lambda i: _under(i, "opnode", "engine", "p2p", "tests") and not _under(i, LIBRARY)),
    ("p2p", lambda m: _under(m, "p2p"), lambda i: _under(i, "opnode", "engine", "tests")),
    ("node-side engine", lambda m: _under(m, *NODE_SIDE_ENGINE),
     lambda i: _under(i, "engine.execution", "opnode", "p2p", "tests") and not _under(i, LIBRARY)),
    ("the node", lambda m: _under(m, "opnode.node"),
     lambda i: _under(i, "engine.execution", "opnode.tools", "opnode.testing", "opnode.commands", "opnode.cli",
                      "tests")),
    ("the supernode", lambda m: _under(m, "opnode.supernode"),
     lambda i: _under(i, "engine.execution", "opnode.tools", "opnode.testing", "opnode.commands", "opnode.cli",
                      "tests")),
    ("the node does not import the supernode", lambda m: _under(m, "opnode.node"),
     lambda i: _under(i, "opnode.supernode")),
    ("execution client", lambda m: _under(m, "engine.execution"),
     lambda i: _under(i, "opnode", "p2p", "tests", *NODE_SIDE_ENGINE) and not _under(i, LIBRARY)),
    ("tools", lambda m: _under(m, "opnode.tools"), lambda i: _under(i, "opnode.commands", "opnode.cli", "tests")),
    ("everything but the tests", lambda m: not _under(m, "tests"), lambda i: _under(i, "tests")),
]


@pytest.mark.parametrize("name,who,forbidden", RULES, ids=[r[0] for r in RULES])
def test_import_rules(name, who, forbidden):
    bad = sorted(f"{m} imports {i}" for m, imps in MODULES.items() if who(m) for i in imps if forbidden(i))
    assert not bad, f"{name}: " + "; ".join(bad)


def test_the_rules_see_the_packages():
    assert len([m for m in MODULES if _under(m, "derivation.protocol")]) > 25
    assert any(_under(m, "engine.execution.evm") for m in MODULES)
    assert any(_under(m, "opnode.tools.devnet") for m in MODULES)
    assert {"opnode.supernode.service", "opnode.supernode.verifier"} <= set(MODULES)
    assert {"opnode.jsonrpc.client", "opnode.jsonrpc.server", "opnode.jsonrpc.errors", "opnode.jsonrpc.jwt"} <= set(
        MODULES)
