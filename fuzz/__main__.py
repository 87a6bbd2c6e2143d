"""``python -m fuzz [--seconds N] [TARGET ...]`` (``make fuzz``): run the campaign; ``--list`` names the targets."""

from __future__ import annotations

import argparse
import os
import sys


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m fuzz", description="coverage-guided fuzzing of every decoder")
    p.add_argument("targets", nargs="*", help="targets to run (default: all)")
    p.add_argument("--seconds", type=float, default=float(os.environ.get("FUZZ_SECONDS", 600)),
                   help="total time budget, shared by the targets (default: $FUZZ_SECONDS or 600)")
    p.add_argument("--no-update", action="store_true", help="leave corpus, crashers and ledger as they are")
    p.add_argument("--list", action="store_true", help="list the targets and exit")
    args = p.parse_args()
    from fuzz.targets import load

    targets = load()
    if args.list:
        for t in targets.values():
            print(f"{t.name:<16}{t.about}")
        return 0
    unknown = [n for n in args.targets if n not in targets]
    if unknown:
        print(f"unknown fuzz target(s): {', '.join(unknown)}; known: {', '.join(targets)}", file=sys.stderr)
        return 2
    from fuzz.campaign import run

    run(args.seconds, args.targets or None, update=not args.no_update)
    return 0


if __name__ == "__main__":
    sys.exit(main())
