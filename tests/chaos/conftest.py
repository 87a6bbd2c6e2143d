"""Quick or full chaos: ``pytest tests/chaos`` (and so ``make test``) runs the quick subset; ``CHAOS_FULL=1`` runs
every scenario (``make chaos``; ``make chaos CHAOS_QUICK=1`` for the quick one)."""

from __future__ import annotations

import os

import pytest

FULL = os.environ.get("CHAOS_FULL") == "1" and os.environ.get("CHAOS_QUICK") != "1"


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="full chaos scenario: set CHAOS_FULL=1 (make chaos)")
    for item in items:
        if item.get_closest_marker("chaos_full") and not FULL:
            item.add_marker(skip)


def pytest_configure(config):
    config.addinivalue_line("markers", "chaos_full: a chaos scenario of the full form only (CHAOS_FULL=1)")
