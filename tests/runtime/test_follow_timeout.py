"""A source that does not answer within --l2.follow.source.rpc-timeout: counted as error_fetch_status, and the
warning says it timed out (httpx timeouts have an empty message)."""

from __future__ import annotations

import logging

import httpx

from opnode.node.runtime import follow
from opnode.node.runtime.follow import FollowSource


async def test_timeout_is_counted_and_named(caplog):
    def hang(request):
        raise httpx.ReadTimeout("", request=request)

    results = []
    fs = FollowSource("http://source/901", timeout=0.1, interval=1, l1_ref_by_number=None, ctrl=None, driver=None,
                      count=results.append)
    async with fs.client(httpx.MockTransport(hang)) as http:
        with caplog.at_level(logging.WARNING, logger="opnode.follow"):
            assert await fs.fetch(http) is None
    assert results == [follow.FETCH]
    (rec,) = caplog.records
    assert rec.getMessage() == "Follow Upstream: Failed to fetch status" and "ReadTimeout" in dict(rec.kv)["err"]
