"""A crafted world for the assessment, export and verify tests: units, people and duties written
straight into a real store, instances with known outcomes, check-ins and evidence chained with
`ledger.record` exactly as the services do."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image

from bot.services import ledger
from bot.store import Store
from bot.store.models import CheckIn, Duty, DutyInstance, Evidence, Person, Unit

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 18, mm: int = 0) -> datetime:
    """A Shanghai wall time, as the aware UTC datetime the store keeps."""
    return datetime(y, m, d, hh, mm, tzinfo=SH).astimezone(UTC)


def add_units(session, *units: tuple[str, str]) -> None:
    for uid, name in units:
        session.add(Unit(id=uid, name=name))


def add_person(session, pid: str, unit: str, *, name: str | None = None, roles: tuple[str, ...] = (),
               office: bool = False, telegram_id: int | None = None) -> Person:
    p = Person(id=pid, name=name or pid, unit_id=unit, roles=list(roles), is_office=office, telegram_id=telegram_id)
    session.add(p)
    return p


def add_duty(session, did: str, title: str, kind: str = "inspection") -> None:
    session.add(Duty(id=did, title=title, kind=kind, frequency="每月至少1次"))


_counter = iter(range(1, 10**9))


def add_instance(session, person: str, duty: str, due: datetime, outcome: str, *, period: str | None = None,
                 required: int = 1, late_days: int = 3) -> DutyInstance:
    """outcome: done | late | missed | excused | open (nothing yet), or the stored-as-open variants
    open-late (enough check-ins after due, status not updated) and open-missed (closed, not swept)."""
    status = {"open-late": "open", "open-missed": "open"}.get(outcome, outcome)
    done = required if outcome in ("done", "late", "open-late") else 0
    done_at = {"done": due - timedelta(hours=2), "late": due + timedelta(days=1),
               "open-late": due + timedelta(days=1)}.get(outcome)
    inst = DutyInstance(duty_id=duty, person_id=person, period_key=period or f"t{next(_counter)}",
                        opens_at=due - timedelta(days=20), due_at=due, closes_at=due + timedelta(days=late_days),
                        required=required, done_count=done, status=status, done_at=done_at)
    session.add(inst)
    session.flush()
    return inst


def jpeg(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return buf.getvalue()


def store_file(data_dir: Path, data: bytes) -> tuple[str, str]:
    sha = hashlib.sha256(data).hexdigest()
    rel = f"evidence/{sha[:2]}/{sha}"
    path = Path(data_dir) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return sha, rel


def add_checkin(session, inst: DutyInstance | None, person: str, when: datetime, text: str = "",
                photos: tuple[bytes, ...] = (), data_dir: Path | None = None, update_id: int | None = None) -> CheckIn:
    """A check-in with its photos, chained like bot/services/checkins.py and evidence.py do."""
    row = CheckIn(instance_id=inst.id if inst else None, person_id=person, text=text, at=when, update_id=update_id,
                  attachments=[{"file_id": f"f{n}", "file_unique_id": f"u{when.timestamp()}-{n}"}
                               for n in range(len(photos))])
    session.add(row)
    session.flush()
    ledger.record(session, "checkin", row, when)
    for n, data in enumerate(photos):
        assert data_dir is not None
        sha, rel = store_file(data_dir, data)
        ev = Evidence(checkin_id=row.id, sha256=sha, path=rel, mime="image/jpeg", size=len(data),
                      tg_file_id=f"f{n}", tg_file_unique_id=row.attachments[n]["file_unique_id"],
                      at=when + timedelta(seconds=n + 1))
        session.add(ev)
        session.flush()
        ledger.record(session, "evidence", ev, ev.at)
    return row


def local_noon(day) -> datetime:
    return datetime.combine(day, time(12), SH).astimezone(UTC)


def built_world(backend: str, base: Path, build: Callable[[Store, Path], dict]) -> Iterator[tuple[Store, Path, dict]]:
    """For a module-scoped fixture to `yield from`: a fresh database on `backend` under `base`, filled by
    `build(store, data_dir)`; yields (store, data_dir, what build returned), then drops the database."""
    from conftest import make_database_url

    url, drop = make_database_url(backend, base)
    store = Store(url)
    data_dir = base / "data"
    ids = build(store, data_dir)
    yield store, data_dir, ids
    store.dispose()
    drop()
