"""What a person running ``make devnet`` sees first (issue 17): by default two sources and two light nodes following
them in turn, the live table naming whom each light node follows and how far its safe head is from that source's,
and the READY JSON kept for scripts (a file always, a stdout line only when stdout is not a terminal)."""

import io
import json
from types import SimpleNamespace

from rich.console import Console

from opnode.commands.devnet import devnet_command
from opnode.tools.devnet.run import DevnetOptions, announce_ready
from opnode.tools.devnet.stack import Stack
from opnode.tools.devnet.table import nodes_table


def test_the_default_topology_is_two_sources_and_two_light_nodes_following_them_in_turn(tmp_path):
    defaults = {p.name: p.default for p in devnet_command.params}
    assert (defaults["sources"], defaults["light_nodes"]) == (2, 2)
    assert (DevnetOptions().sources, DevnetOptions().light_nodes) == (2, 2)
    stack = Stack(tmp_path, sources=2, light_nodes=3, spread_light_nodes=True)
    stack.add_node = lambda name, role, follows=None, sync_peer=None: stack.nodes.append(
        SimpleNamespace(name=name, role=role, follows=follows.name if follows else None)) or stack.nodes[-1]
    for step in ("start_l1", "deploy_contracts", "write_files"):
        setattr(stack, step, lambda: None)
    stack.start_batcher = False
    stack.start()
    assert {n.name: n.follows for n in stack.nodes if n.role == "light"} == {
        "light-1": "source-A", "light-2": "source-B", "light-3": "source-A"}


def _rendered(table) -> str:
    console = Console(file=io.StringIO(), width=200)
    console.print(table)
    return console.file.getvalue()


def test_the_table_shows_whom_a_light_node_follows_and_its_safe_head_against_that_source():
    sample = {"nodes": {"sequencer": {"unsafe": 50, "safe": 40, "finalized": 30},
                        "source-A": {"unsafe": 50, "safe": 40, "finalized": 30},
                        "source-B": {"unsafe": 50, "safe": 38, "finalized": 30},
                        "light-1": {"unsafe": 50, "safe": 37, "finalized": 30},
                        "light-2": {"unsafe": 50, "safe": 38, "finalized": 30}}}
    roles = {"sequencer": "sequencer", "source-A": "source", "source-B": "source", "light-1": "light",
             "light-2": "light"}
    follows = {"light-1": "source-A", "light-2": "source-B"}
    rows = {line.split("│")[1].strip(): line for line in _rendered(nodes_table(sample, roles, follows)).splitlines()
            if line.count("│") > 3}
    assert "light ← source-A" in rows["light-1"] and rows["light-1"].rstrip(" │").endswith("-3")
    assert "light ← source-B" in rows["light-2"] and rows["light-2"].rstrip(" │").endswith("=")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _devnet(tmp_path):
    ready = {"nodes": [{"name": "source-A", "role": "source"}]}
    nodes = [SimpleNamespace(role=r) for r in ("sequencer", "source", "source", "light", "light")]
    return ready, SimpleNamespace(dir=tmp_path, ready_line=lambda: "READY " + json.dumps(ready),
                                  stack=SimpleNamespace(nodes=nodes))


def test_ready_goes_to_stdout_for_scripts_and_to_a_file_for_people(tmp_path):
    ready, devnet = _devnet(tmp_path)
    piped = io.StringIO()
    announce_ready(devnet, DevnetOptions(ready_file=tmp_path / "r.json"), piped)
    assert piped.getvalue() == "READY " + json.dumps(ready) + "\n"
    assert json.loads((tmp_path / "ready.json").read_text()) == ready
    assert json.loads((tmp_path / "r.json").read_text()) == ready
    term = _Terminal()
    announce_ready(devnet, DevnetOptions(), term)
    assert "READY" not in term.getvalue()
    assert "2 sources, 2 light nodes" in term.getvalue() and str(tmp_path / "ready.json") in term.getvalue()
