"""``opnode doc metrics|flags``: what the node exports and accepts, as op-node's ``doc metrics`` documents its
metrics (op-node/cmd/doc/cmd.go: a markdown table Metric | Description | Labels | Type, or JSON with
``--format json``); ``doc flags`` does the same for the node's flags and their ``OP_NODE_*`` variables, with each
flag's status (``implemented``, ``no-op``: accepted and warned about, ``refused`` unless left at its default)."""

from __future__ import annotations

import json

import click

FORMAT = click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown",
                      show_default=True, help="Output format.")


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def metrics_document() -> list[dict]:
    """Every metric of a fresh node registry as its text exposition names it, with help, labels and type (op-node
    ``Metrics.Document``)."""
    from opnode.node.metrics import Metrics

    metrics = Metrics()
    registry = metrics.registry
    labels: dict[str, list[str]] = {}
    for collector in list(registry._collector_to_names):  # prometheus_client keeps no public list of collectors
        names = list(getattr(collector, "_labelnames", None) or getattr(collector, "labelnames", ()))
        for family in collector.collect():
            labels[family.name] = names
    helps, out = {}, []
    for line in metrics.exposition().decode().splitlines():
        if line.startswith("# HELP "):
            name, _, text = line[7:].partition(" ")
            helps[name] = text
        elif line.startswith("# TYPE ") and not line.split()[2].endswith("_created"):
            _, _, name, kind = line.split()
            out.append({"name": name, "help": helps.get(name, ""), "type": kind,
                        "labels": labels.get(name, labels.get(name.removesuffix("_total"), []))})
    return sorted(out, key=lambda d: d["name"])


@click.group("doc")
def doc_group():
    """Documentation of the node's metrics and flags."""


@doc_group.command("metrics")
@FORMAT
def doc_metrics(fmt: str):
    """Dumps a list of supported metrics to stdout."""
    docs = metrics_document()
    if fmt == "json":
        click.echo(json.dumps(docs))
        return
    click.echo(_markdown(["Metric", "Description", "Labels", "Type"],
                         [[d["name"], d["help"], ",".join(d["labels"]), d["type"]] for d in docs]))


@doc_group.command("flags")
@FORMAT
def doc_flags(fmt: str):
    """Dumps the node's flags, their environment variables and defaults to stdout."""
    from opnode.node.flags import FLAGS

    docs = [{"name": f"--{f.name}", "aliases": [f"--{a}" for a in f.aliases], "env": list(f.envvars),
             "default": f.default_text(), "category": f.category, "usage": f.help,
             "status": f.status, **({"refused": f.refuse} if f.refuse else {})} for f in FLAGS]
    if fmt == "json":
        click.echo(json.dumps(docs))
        return
    click.echo(_markdown(["Flag", "Environment", "Default", "Category", "Status", "Usage"],
                         [[", ".join([d["name"], *d["aliases"]]), ", ".join(d["env"]), d["default"] or "",
                           d["category"], d["status"], d["usage"] + (f" (refused unless {d['default'] or 'unset'}: "
                                                                    f"{d['refused']})" if "refused" in d else "")]
                          for d in docs]))
