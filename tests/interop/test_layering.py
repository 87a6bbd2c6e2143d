"""derivation/interop stands on the protocol layer alone (the brief's layering, on top of tests/test_architecture.py)."""

from tests.test_architecture import MODULES


def test_the_interop_package_imports_only_the_protocol_layer():
    """The brief's layering: derivation/interop is pure and stands on derivation.protocol alone."""
    mods = {m: imps for m, imps in MODULES.items() if m.startswith("derivation.interop")}
    assert len(mods) >= 7
    bad = sorted(f"{m} imports {i}" for m, imps in mods.items() for i in imps
                 if not i.startswith(("derivation.protocol", "derivation.interop")))
    assert not bad, bad
