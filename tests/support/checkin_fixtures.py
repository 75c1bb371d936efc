"""Fixtures for the check-in, status and office tests (`pytest_plugins = ["support.checkin_fixtures"]`)."""

from __future__ import annotations

import pytest
from conftest import BACKENDS, make_database_url

from bot.store import Store
from support.checkin_world import setup_world, wipe


@pytest.fixture(scope="module", params=BACKENDS)
def shared_store(request, tmp_path_factory):
    """One migrated database per backend and test module (creating one per test costs a second
    on PostgreSQL); `world` empties it before each test."""
    url, drop = make_database_url(request.param, tmp_path_factory.mktemp("db"))
    store = Store(url)
    yield store
    store.dispose()
    drop()


@pytest.fixture
def world(shared_store, catalog):
    """The example catalogue in an otherwise empty store, with LEADER, OTHER and OFFICE bound."""
    wipe(shared_store)
    if not getattr(shared_store, "_world_ready", False):
        setup_world(shared_store, catalog)
        shared_store._world_ready = True
    return shared_store
