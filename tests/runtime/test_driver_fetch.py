"""The driver's data fetches: a provider's answer of the wrong shape is a temporary error, retried with back-off.

Regression (the chaos suite's garbage fault, fresh-clone CI of 2026-12-06): a ParseError ("expected a hex string, got
int") out of an L1 block fetch left the driver's loop, which retries only TemporaryError and resets on ResetError, and
the source node exited with "internal error".
"""

from __future__ import annotations

import pytest

from derivation.protocol.errors import ParseError, TemporaryError
from derivation.providers import DataKind, DataRequest
from opnode.node.runtime.driver import Driver
from tests.runtime.test_unsafe_queue import L2, Ctrl


class MalformedL1:
    """An L1 source whose provider answered JSON of the wrong shape."""

    async def fetch(self, req) -> None:
        raise ParseError("expected a hex string, got int")


async def test_a_malformed_provider_answer_is_a_temporary_error_not_the_end_of_the_node():
    d = Driver(None, pipeline=None, ctrl=Ctrl(), l1=MalformedL1(), l2=L2(), l1_finalized=lambda: None)
    with pytest.raises(TemporaryError, match="malformed answer to L1_BLOCK_BY_NUMBER: expected a hex string"):
        await d._fetch(DataRequest(DataKind.L1_BLOCK_BY_NUMBER, 7))
