"""``python -m fuzz.replay TARGET FILE...``: run inputs through a target in a plain interpreter under the contract.

Prints one JSON line per input (``{"file", "finding": null | {kind, signature, summary}}``); exit 0. A crash of the
interpreter itself shows as the process dying by a signal, which is why the campaign and the crasher replay in
``make test`` call this in a subprocess.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from fuzz.contract import Checker
    from fuzz.targets import load

    target = load()[argv[0]]
    checker = Checker()
    for name in argv[1:]:
        f = checker.run(target, Path(name).read_bytes())
        print(json.dumps({"file": name, "finding": None if f is None else
                          {"kind": f.kind, "signature": f.signature, "summary": f.summary}}), flush=True)
    checker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
