"""Fixtures of the node's unit tests."""

from __future__ import annotations

import io
import logging

import pytest

from opnode.node import logs


@pytest.fixture
def capture():
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    streams = []

    def setup(**kw):
        buf = io.StringIO()
        streams.append(logs.setup_logging(logs.LogConfig(**kw), stream=buf))
        return buf

    yield setup
    for h in streams:
        root.removeHandler(h)
    logs._handler = None
    root.setLevel(saved_level)
    for h in saved_handlers:
        if h not in root.handlers:
            root.addHandler(h)
