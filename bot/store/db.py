"""Engine creation and migrations. SQLite (WAL, under DATA_DIR) by default, PostgreSQL by URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from . import lease

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # WAL lets the sender, scheduler and CLI read while one writes
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # The pid in application_name tells an operator (pg_stat_activity) which process a connection is.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                         connect_args={"application_name": f"dutybot:{os.getpid()}"})


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "%%(rev)s")
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def serialize(conn, what: str) -> None:
    """On PostgreSQL, hold a transaction-scoped advisory lock named `what`: processes doing the same
    start-up step (migrations, the catalogue sync) take turns. SQLite's writer lock does it there."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:what))"), {"what": f"dutybot:{what}"})


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (run on every start; a no-op when current)."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        serialize(conn, "migrate")  # replicas starting together: one migrates, the others wait
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
    if engine.dialect.name == "sqlite":
        analyze(engine)


def analyze(engine: Engine) -> None:
    """SQLite: refresh the planner's statistics (sqlite_stat1), from a sample of 1,000 rows per
    index, a few milliseconds at 1.5 M instances. Without them SQLite guesses every index equally
    selective and picks, e.g., a year's open instances of every unit and then the unit's people
    over the unit's 100 people and their open instances (250 ms against 10 ms for 未报告 of one
    unit). PostgreSQL's autovacuum keeps its own statistics."""
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        conn.exec_driver_sql("ANALYZE")


class Store:
    """The database handle the services use: an engine plus short sessions."""

    def __init__(self, url: str, *, run_migrations: bool = True):
        self.url = url
        self.engine = make_engine(url)
        if run_migrations:
            migrate(self.engine)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error. Inside `lease.fenced(term)`
        (leader-only work) the commit is refused with `lease.Fenced` once `term` no longer leads."""
        with Session(self.engine, expire_on_commit=False) as s:
            try:
                yield s
                lease.check(s)
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
