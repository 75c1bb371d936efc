"""The last `verify` and running it again from the web console.

Every run — `dutybot verify` or the console's 重新校验 — stores its outcome in the KeyValue table
(`verify.last`), so /verify shows the latest result whichever way it ran. A run started from the
console is marked `verify.running` while it goes (a second press does not start another; a mark
older than RUNNING_STALE is from a process that died and is ignored)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.services import ledger
from bot.services.verify import Result
from bot.store import kv

LAST = "verify.last"
RUNNING = "verify.running"
RUNNING_STALE = timedelta(hours=2)


def as_dict(result: Result, started: datetime, finished: datetime, by: str | None, via: str) -> dict:
    p = result.problem
    return {"ok": result.ok, "records": result.count, "head": result.head, "head_seq": result.head_seq,
            "files": result.files, "started_at": started.isoformat(), "finished_at": finished.isoformat(),
            "by": by, "via": via,
            "problem": None if p is None else {"kind": p.kind, "id": p.ref_id, "what": p.what, "seq": p.seq,
                                               "detail": p.detail, "text": p.describe()}}


def save(session: Session, result: Result, started: datetime, finished: datetime, by: str | None, via: str) -> None:
    kv.put(session, LAST, as_dict(result, started, finished, by, via), finished)
    kv.put(session, RUNNING, None, finished)


def last(session: Session) -> dict | None:
    return kv.get(session, LAST)


def running(session: Session, now: datetime) -> dict | None:
    mark = kv.get(session, RUNNING)
    if mark is None or now - datetime.fromisoformat(mark["started_at"]) > RUNNING_STALE:
        return None
    return mark


def mark_running(session: Session, now: datetime, by: str | None) -> bool:
    """True when this caller may start a run (none is going)."""
    if running(session, now) is not None:
        return False
    kv.put(session, RUNNING, {"started_at": now.isoformat(), "by": by}, now)
    return True


def head(session: Session) -> dict | None:
    entry = ledger.head(session)
    return None if entry is None else {"seq": entry.seq, "hash": entry.hash, "at": entry.at}
