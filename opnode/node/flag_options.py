"""The click side of the node's flags (:mod:`opnode.node.flags`): one option per flag showing op-node's default and
env var, and a command whose ``--help`` lists them by op-node's groups."""

from __future__ import annotations

import click

from opnode.node.flag_types import GoBool, StringList
from opnode.node.flags import CATEGORIES, FLAGS, Flag


class FlagOption(click.Option):
    """A click option that knows its help group and shows op-node's default and env var."""

    def __init__(self, *args, flag: Flag, **kwargs):
        super().__init__(*args, **kwargs)
        self.flag = flag
        self.category = flag.category

    def get_help_record(self, ctx):
        if self.hidden:
            return None
        f = self.flag
        names = ", ".join(f"--{n}" for n in (f.name, *f.aliases))
        if isinstance(f.type, GoBool):
            names += "[=BOOL]"
        else:
            names += f" {f.type.name.upper()}"
        extra = []
        d = f.default_text()
        if d is not None:
            extra.append(f"default: {d}")
        if f.envvars:
            extra.append("env: " + ", ".join(f"${e}" for e in f.envvars))
        text = f.help
        if f.no_effect and "no effect" not in text.lower():
            text += " (accepted; no effect)"
        if f.refuse:
            text += f" (refused unless left at its default: {f.refuse})"
        text += f"  [{'; '.join(extra)}]" if extra else ""
        return names, text


def _option(f: Flag):
    decls = [f"--{f.name}", *(f"--{a}" for a in f.aliases), f.dest]
    kw = dict(cls=FlagOption, flag=f, default=None, hidden=f.hidden, envvar=list(f.envvars) or None,
              help=f.help, show_default=False)
    if isinstance(f.type, GoBool):
        # --flag alone means true; --flag=false and the env var take a value (urfave BoolFlag)
        return click.option(*decls, is_flag=False, flag_value="true", type=f.type, **kw)
    if isinstance(f.type, StringList):
        return click.option(*decls, type=f.type, multiple=True, **kw)
    return click.option(*decls, type=f.type, **kw)


def node_options(fn):
    """Add every ``opnode node`` flag to a click command (use with ``cls=NodeCommand`` for grouped help). The
    command receives one keyword argument per flag (:attr:`Flag.dest`), None when not given."""
    for f in reversed(FLAGS):
        fn = _option(f)(fn)
    return fn


class NodeCommand(click.Command):
    """A click command whose ``--help`` lists the flags by op-node's groups."""

    def format_options(self, ctx, formatter):
        groups: dict[str, list] = {c: [] for c in CATEGORIES}
        other = []
        for p in self.get_params(ctx):
            rec = p.get_help_record(ctx)
            if rec is None:
                continue
            cat = getattr(p, "category", None)
            (groups[cat] if cat in groups else other).append(rec)
        for cat in CATEGORIES:
            if groups[cat]:
                with formatter.section(cat):
                    formatter.write_dl(groups[cat])
        if other:
            with formatter.section("Other"):
                formatter.write_dl(other)
