"""One target under atheris/libFuzzer, in its own process (libFuzzer ends the process when it is done).

``FUZZ_TARGET`` names the target, ``FUZZ_FINDINGS`` the JSON-lines file the first input of each new finding
signature is appended to; the arguments are libFuzzer's. A finding does not stop the campaign: the input is
recorded and fuzzing goes on (only a hard crash of the interpreter, which libFuzzer records itself, stops it).
"""

from __future__ import annotations

import json
import os
import sys

import atheris
from atheris import import_hook

INSTRUMENTED = {"derivation", "engine", "opnode", "p2p"}
# Modules atheris 2.3.0 cannot instrument on Python 3.11 without crashing the interpreter (their inputs still run,
# only their branch coverage is missing): see instrumented_imports.
NOT_INSTRUMENTED = {"derivation.protocol.rlp", "opnode.tools.replay.format", "engine.execution.server"}


def instrumented_imports():
    """atheris.instrument_imports without comparison (dataflow) tracing and without :data:`NOT_INSTRUMENTED`.

    On Python 3.11 atheris 2.3.0's bytecode rewriting breaks some functions with ``while True`` loops:
    derivation/rlp.py ``decode_at`` segfaults the interpreter on a one-item list with comparison tracing on, and on
    longer lists even with branch coverage alone; opnode/replay/format.py ``_lines`` reads the wrong local variable
    ("'bytes' object has no attribute 'readline'"). The plain functions do neither. Branch coverage stays for
    everything else; the targets' dictionaries stand in for the comparison feedback. The campaign replays every
    input that kills a worker in a plain interpreter, so an instrumentation crash is never taken for a finding.
    """
    return import_hook.HookManager(INSTRUMENTED, NOT_INSTRUMENTED, True, trace_dataflow=False)


def main() -> None:
    with instrumented_imports():
        from fuzz.contract import Checker
        from fuzz.targets import load

        target = load()[os.environ["FUZZ_TARGET"]]
    findings_path = os.environ["FUZZ_FINDINGS"]
    seen: set[str] = set()
    checker = Checker()

    def one(data: bytes) -> None:
        f = checker.run(target, data)
        if f is not None and f.signature not in seen:
            seen.add(f.signature)
            with open(findings_path, "a") as out:
                out.write(json.dumps({"target": f.target, "kind": f.kind, "signature": f.signature,
                                      "summary": f.summary, "traceback": f.traceback, "data": f.data.hex()}) + "\n")

    # libFuzzer's merge runs argv[0] as a command: the campaign's wrapper script, not this module's path.
    atheris.Setup([os.environ.get("FUZZ_ARGV0", sys.argv[0]), *sys.argv[1:]], one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
