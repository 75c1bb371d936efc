"""Fixtures for tests that run several real bot processes on one PostgreSQL database (test_cluster,
test_deploy_proxy): the Telegram sandbox with Telegram's limits, and a fresh migrated database."""

from __future__ import annotations

import pytest
from conftest import PG_URL, make_database_url

from bot.store import Store
from support.harness import limited_sandbox


@pytest.fixture
async def sandbox():
    async with limited_sandbox() as sb:
        yield sb


@pytest.fixture
def pg_url(tmp_path):
    """A fresh PostgreSQL database, migrated once before the processes start at the same moment."""
    if PG_URL is None:
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): the processes share one database")
    url, drop = make_database_url("postgresql", tmp_path)
    Store(url).dispose()
    yield url
    drop()
