"""``python -m bench [section ...]``: run the benchmark sections (all by default).

Every section runs even when an earlier one fails: a failure is reported with its error where the section's figures
would be, and the run ends with exit code 1 listing the failed sections.
"""

import importlib
import sys
import traceback

SECTIONS = ["codecs", "engine", "l1", "pipeline", "node", "restart", "follow", "gossip", "supernode", "witness",
            "soak"]


def main(argv: list[str]) -> int:
    failed = []
    for name in argv or SECTIONS:
        if name not in SECTIONS:
            print(f"bench: unknown section {name!r} (sections: {', '.join(SECTIONS)})", file=sys.stderr)
            return 2
        try:
            importlib.import_module(f"bench.{name}").run()
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # noqa: BLE001 - a failed section must not hide the ones after it
            failed.append(name)
            print(f"\n[{name}] FAILED: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc(limit=-3)
    if failed:
        print(f"\nbench: {len(failed)} section(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
