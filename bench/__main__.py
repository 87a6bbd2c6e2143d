"""``python -m bench [section ...]``: run the benchmark sections (all by default)."""

import importlib
import sys

SECTIONS = ["codecs", "engine", "l1", "pipeline", "node", "restart", "follow", "gossip", "witness"]


def main(argv: list[str]) -> None:
    wanted = argv or SECTIONS
    for name in wanted:
        try:
            mod = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"bench.{name}" and not argv:
                continue  # a section not written yet
            raise
        mod.run()


if __name__ == "__main__":
    main(sys.argv[1:])
