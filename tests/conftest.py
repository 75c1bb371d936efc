"""Shared fixtures: a real store on SQLite always, and on PostgreSQL when TEST_DATABASE_URL is reachable."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.store import Store
from schedules import load_catalog

# Assertions in the shared support modules are rewritten like the tests' own (before they are imported).
pytest.register_assert_rewrite("support")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "duties.yaml"


def _postgres_admin_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception:
        return None
    return url


PG_URL = _postgres_admin_url()
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(scope="session")
def catalog():
    return load_catalog(EXAMPLE)


def make_database_url(backend: str, tmp_path: Path) -> tuple[str, callable]:
    """A fresh, empty database and a function that drops it."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/dutybot.db", lambda: None
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"dutybot_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    url, drop = make_database_url(request.param, tmp_path)
    yield url
    drop()


@pytest.fixture
def store(database_url):
    s = Store(database_url)
    yield s
    s.dispose()
