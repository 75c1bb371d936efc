"""The leader lease: one row per lease name (holder, epoch, expires_at), on PostgreSQL and SQLite.

Several bot processes share one database; exactly one of them leads (runs the scheduler jobs, the
叫应 ticks, album settling and downloads, getUpdates when polling). Shape as in Healthchecks'
compare-and-set claims and Oban's peer table: no coordinator, only the database.

- **Take or renew** is ONE conditional UPDATE, timed by the database's clock (never a process
  clock: processes disagree, and `--clock-start` shifts ours):

      UPDATE leaderlease SET holder = :me,
             epoch = CASE WHEN holder = :me AND expires_at > NOW THEN epoch ELSE epoch + 1 END,
             expires_at = NOW + :seconds, ...
      WHERE name = :name AND (holder = :me OR holder IS NULL OR expires_at <= NOW)
      RETURNING epoch, expires_at

  The row is created once (INSERT … ON CONFLICT DO NOTHING). A holder whose lease ran out and
  who takes it again gets a new epoch, as a newcomer would: work begun in the old term is stale.
- **Release** (a graceful stop) sets expires_at to NOW, so a follower takes over at its next
  attempt instead of a lease later.
- **Fencing.** The epoch is the fencing token. Leader-only work runs inside `fenced(token)` (a
  context variable, so threads started with `asyncio.to_thread` inherit it); `Store.session()`
  then calls `check()` just before COMMIT: the lease row must still name this holder and epoch and
  must not have expired by the database's clock, else `Fenced` is raised and the transaction rolls
  back. On PostgreSQL the check reads the row `FOR SHARE`: a takeover's UPDATE waits for our
  commit, so no write of an old term can land after a new term began. On SQLite the writer lock
  the transaction already holds does the same.

A paused leader (SIGSTOP, a long GC, a lost connection) therefore cannot act after it lost the
lease: its writes are refused, and the process also stops its leader-only tasks once its own
monotonic clock says the lease may have run out (bot/services/leadership.py).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from .models import LeaderLease

DEFAULT = "main"


class Fenced(RuntimeError):
    """Leader-only work tried to commit under an epoch that no longer leads."""


@dataclass(frozen=True)
class Term:
    name: str
    holder: str
    epoch: int
    expires_at: datetime  # by the database's clock


def _now_sql(session: Session, plus: str | None = None) -> str:
    """The database's clock as naive UTC (what UTCDateTime stores), optionally `+ :seconds`."""
    if session.get_bind().dialect.name == "postgresql":
        now = "timezone('utc', clock_timestamp())"
        return f"({now} + make_interval(secs => :{plus}))" if plus else now
    # strftime gives milliseconds; three zeros make SQLAlchemy's own storage format (microseconds),
    # so lease times compare as strings with each other and parse back as datetimes.
    if plus:
        return f"(strftime('%Y-%m-%d %H:%M:%f', 'now', '+' || :{plus} || ' seconds') || '000')"
    return "(strftime('%Y-%m-%d %H:%M:%f', 'now') || '000')"


def _parse(value: object) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def ensure(session: Session, name: str = DEFAULT) -> None:
    """Create the lease row if it is missing (no holder, epoch 0)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.exec(insert(LeaderLease).values(name=name, holder=None, epoch=0)  # type: ignore[call-overload]
                 .on_conflict_do_nothing(index_elements=["name"]))


def acquire(session: Session, holder: str, seconds: float, name: str = DEFAULT,
            dead: str | None = None) -> Term | None:
    """Take the lease, or renew it if `holder` has it; None when someone else holds it.
    `dead`: a holder known to be gone (a crashed process of this host), whose lease is taken at once."""
    now, until = _now_sql(session), _now_sql(session, "seconds")
    row = session.exec(text(  # type: ignore[call-overload]
        f"UPDATE leaderlease SET "
        f"epoch = CASE WHEN holder = :holder AND expires_at > {now} THEN epoch ELSE epoch + 1 END, "
        f"acquired_at = CASE WHEN holder = :holder AND expires_at > {now} THEN acquired_at ELSE {now} END, "
        f"holder = :holder, expires_at = {until} "
        f"WHERE name = :name AND (holder = :holder OR holder = :dead OR holder IS NULL OR expires_at IS NULL "
        f"OR expires_at <= {now}) RETURNING epoch, expires_at"
    ).bindparams(holder=holder, name=name, seconds=float(seconds), dead=dead or holder)).first()
    if row is None:
        return None
    return Term(name, holder, int(row[0]), _parse(row[1]))


def release(session: Session, holder: str, epoch: int, name: str = DEFAULT) -> bool:
    """Give the lease up at once (graceful stop); False when it was not ours any more."""
    now = _now_sql(session)
    row = session.exec(text(  # type: ignore[call-overload]
        f"UPDATE leaderlease SET expires_at = {now} "
        f"WHERE name = :name AND holder = :holder AND epoch = :epoch RETURNING epoch"
    ).bindparams(holder=holder, name=name, epoch=epoch)).first()
    return row is not None


def current(session: Session, name: str = DEFAULT) -> tuple[LeaderLease | None, datetime]:
    """The lease row (None before anyone took it) and the database's clock."""
    row = session.get(LeaderLease, name)
    now = session.exec(text(f"SELECT {_now_sql(session)}")).scalar_one()  # type: ignore[call-overload]
    return row, _parse(now)


def holds(session: Session, holder: str, epoch: int, name: str = DEFAULT, *, lock: bool = False) -> bool:
    """Does `holder` lead under `epoch` right now, by the database's clock?"""
    sql = (f"SELECT epoch FROM leaderlease WHERE name = :name AND holder = :holder AND epoch = :epoch "
           f"AND expires_at > {_now_sql(session)}")
    if lock and session.get_bind().dialect.name == "postgresql":
        sql += " FOR SHARE"
    return session.exec(text(sql).bindparams(name=name, holder=holder, epoch=epoch)).first() is not None  # type: ignore[call-overload]


# --- fencing --------------------------------------------------------------------------------------
_fence: contextvars.ContextVar[Term | None] = contextvars.ContextVar("lease_fence", default=None)


@contextlib.contextmanager
def fenced(term: Term) -> Iterator[None]:
    """Every store session committed inside (and in threads started from inside) checks `term`."""
    token = _fence.set(term)
    try:
        yield
    finally:
        _fence.reset(token)


def check(session: Session) -> None:
    """Called by Store.session() before COMMIT: raise Fenced if the current fence no longer leads."""
    term = _fence.get()
    if term is None:
        return
    if not holds(session, term.holder, term.epoch, term.name, lock=True):
        raise Fenced(f"lease {term.name!r} epoch {term.epoch} of {term.holder} is no longer held")
