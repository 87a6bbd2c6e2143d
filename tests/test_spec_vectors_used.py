"""Every vector file in spec-vectors/ is read by some test (a vector nobody checks proves nothing)."""

from pathlib import Path

from tests.vectors import ROOT

TESTS = Path(__file__).resolve().parent
# The shared test fixtures (opnode/testing/) load vectors on behalf of tests.
SEARCHED = (TESTS, TESTS.parent / "opnode" / "testing")


def test_every_vector_file_is_read_by_a_test():
    sources = "\n".join(
        p.read_text() for d in SEARCHED for p in d.rglob("*.py") if p.name != Path(__file__).name
    )
    vector_files = [p for p in ROOT.rglob("*") if p.is_file() and p.suffix in (".json", ".hex")]
    assert vector_files, "spec-vectors/ is empty"
    unread = sorted(str(p.relative_to(ROOT)) for p in vector_files if p.name not in sources)
    assert not unread, f"vector files no test reads: {unread}"
