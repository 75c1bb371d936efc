"""A small world for the check-in, status and office tests: the example catalogue synced into a
real store, a few people bound to Telegram ids, and duty instances made by hand."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image
from sqlalchemy import text
from sqlmodel import SQLModel, select

from bot.store.models import DutyInstance, Outbox, Person
from bot.store.sync import sync_catalog

# 2026-11-20 10:00 in Shanghai: a Friday, mid-month.
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)

LEADER = "李卫东"  # 分管负责人, 园区管委会
LEADER_TG = 2001
OTHER = "吴刚"  # 部门负责人, 规划建设部
OTHER_TG = 2002
OFFICE = "孙丽"  # 安委办 (office: true)
OFFICE_TG = 3001
BOUND = {LEADER: LEADER_TG, OTHER: OTHER_TG, OFFICE: OFFICE_TG}


# the leader lease too: a running bot keeps leading across tests
CATALOGUE_TABLES = {"unit", "person", "duty", "leaderlease"}


def wipe(store, keep: set[str] = CATALOGUE_TABLES) -> None:
    """Empty every table but the catalogue's (DELETE: far quicker than TRUNCATE on small tables)."""
    tables = [t.name for t in SQLModel.metadata.sorted_tables if t.name not in keep]
    with store.engine.begin() as conn:
        for t in reversed(tables):
            conn.execute(text(f'DELETE FROM "{t}"'))


def setup_world(store, catalog, now: datetime = NOW, bound: dict[str, int] = BOUND) -> None:
    with store.session() as s:
        sync_catalog(s, catalog, now)
        for name, tg in bound.items():
            person = s.exec(select(Person).where(Person.name == name)).one()
            person.telegram_id = tg


def person(s, name: str) -> Person:
    return s.exec(select(Person).where(Person.name == name)).one()


def make_instance(store, person_id: str, duty_id: str, period: str, *, due: datetime, required: int = 1,
                  opens: datetime | None = None, closes: datetime | None = None, status: str = "open",
                  done: int = 0) -> int:
    with store.session() as s:
        row = DutyInstance(duty_id=duty_id, person_id=person_id, period_key=period,
                           opens_at=opens or due - timedelta(days=30), due_at=due,
                           closes_at=closes or due + timedelta(days=3), required=required, status=status,
                           done_count=done)
        s.add(row)
        s.flush()
        return row.id


def outbox_rows(store, chat_id: int | None = None) -> list[Outbox]:
    with store.session() as s:
        query = select(Outbox).order_by(Outbox.id)
        if chat_id is not None:
            query = query.where(Outbox.chat_id == chat_id)
        return list(s.exec(query))


def texts(store, chat_id: int | None = None) -> list[str]:
    return [r.payload.get("text", "") for r in outbox_rows(store, chat_id)]


def jpeg(color=(200, 30, 30), size=(64, 48), taken: str | None = None) -> bytes:
    """A small JPEG, optionally with an EXIF DateTimeOriginal."""
    img = Image.new("RGB", size, color)
    buf = io.BytesIO()
    if taken:
        exif = Image.Exif()
        exif.get_ifd(0x8769)[36867] = taken
        img.save(buf, "JPEG", exif=exif)
    else:
        img.save(buf, "JPEG")
    return buf.getvalue()


def open_now(store, person_id: str, duty_id: str, period: str = "2026-11",
             due_in: timedelta = timedelta(days=5)) -> int:
    """An instance open since yesterday (by the process clock), due in `due_in`, closing 3 days later."""
    from bot import clock

    now = clock.now()
    return make_instance(store, person_id, duty_id, period, due=now + due_in, opens=now - timedelta(days=1),
                         closes=now + due_in + timedelta(days=3))


def rows_of(store, model, *where) -> list:
    """Rows of `model` matching `where`."""
    with store.session() as s:
        return list(s.exec(select(model).where(*where)))
