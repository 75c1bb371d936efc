"""One whole bot per test module and backend for the check-in and office end-to-end tests
(`pytest_plugins = ["support.harness", "support.checkin_e2e_fixtures"]` and
`pytestmark = pytest.mark.asyncio(loop_scope="module")`).

Starting a Harness costs one to two seconds (a database, migrations, the runtime); the tests here
share one and start from an empty store instead (the catalogue tables kept). Each test binds its
people to fresh Telegram ids and reads the sandbox from a cursor, so earlier tests' messages and
updates do not matter. The sandbox itself is never reset: its update ids must keep growing for
the bot's polling offset.
"""

from __future__ import annotations

from datetime import timedelta

import pytest_asyncio
from conftest import BACKENDS, make_database_url

from bot.services import checkins, evidence
from support.checkin_world import wipe
from support.harness import Harness


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=BACKENDS)
async def shared_harness(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    url, drop = make_database_url(request.param, tmp)
    try:
        async with Harness(url, tmp) as h:
            yield h
    finally:
        drop()


@pytest_asyncio.fixture(loop_scope="module")
async def bot(shared_harness, monkeypatch):
    """The shared harness, settled and emptied: no faults, nothing queued, no instances. An album
    is complete after 0.3 s of quiet (2 s in production) and a failed download is retried after
    0.1 s (1 s), so waiting on them does not dominate the suite."""
    monkeypatch.setattr(checkins, "ALBUM_QUIET", timedelta(milliseconds=300))
    monkeypatch.setattr(evidence, "BACKOFF_FIRST", timedelta(milliseconds=100))
    h = shared_harness
    await h.users.clear_faults()
    await h.wait_inbox_idle()
    await h.drain_outbox()
    wipe(h.store)
    yield h
