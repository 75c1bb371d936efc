"""The store: migrations from empty, catalogue sync (idempotent, retire, history kept), UTC round trip.

Runs on SQLite and, when TEST_DATABASE_URL is reachable, on PostgreSQL (the `store` fixture).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel, select

from bot.store import Store
from bot.store.db import alembic_config, migrate
from bot.store.models import Duty, DutyInstance, Person, Unit
from bot.store.sync import sync_catalog

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
BEIJING = timezone(timedelta(hours=8))


def _on_backend(dialect: str):
    """Compare a model's index only on the backends it is created on (`Index.ddl_if(dialect=…)`)."""

    def include(obj, name, type_, reflected, compare_to) -> bool:
        only = getattr(obj, "_ddl_if", None)
        return reflected or only is None or only.dialect in (None, dialect)

    return include


def test_migrations_from_empty_reach_heads(store):
    heads = set(ScriptDirectory.from_config(alembic_config(store.engine)).get_heads())
    assert heads
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _on_backend(conn.dialect.name)})
        assert set(ctx.get_current_heads()) == heads
        # the migrated schema is the models' schema: nobody changed a table without a migration
        assert compare_metadata(ctx, SQLModel.metadata) == []
    tables = set(inspect(store.engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    assert {"unit", "person", "duty", "dutyinstance", "checkin", "evidence", "outbox", "invite", "callout",
            "auditlog"} <= tables
    migrate(store.engine)  # again: a no-op
    with store.engine.connect() as conn:
        assert set(MigrationContext.configure(conn).get_current_heads()) == heads
    second = Store(store.url)  # the next start-up on a migrated database
    with second.session() as s:
        assert s.exec(select(Person)).all() == []
    second.dispose()


def counts(store) -> dict:
    with store.session() as s:
        return {m.__name__: len(s.exec(select(m)).all()) for m in (Unit, Person, Duty)}


def test_sync_loads_everything_and_is_idempotent(store, catalog):
    with store.session() as s:
        first = sync_catalog(s, catalog, T0)
    assert len(first.added) == 8 + 14 + (23 + 23 + 1) and not first.updated and not first.retired
    assert counts(store) == {"Unit": 8, "Person": 14, "Duty": 47}
    with store.session() as s:
        second = sync_catalog(s, catalog, T0 + timedelta(hours=1))
    assert not second.changed, (second.added, second.updated, second.retired)
    with store.session() as s:
        li = s.get(Person, "李卫东")
        assert (li.superior_id, li.deputy_id, li.unit_id, li.roles) == ("张建国", "王海涛", "园区管委会", ["分管负责人"])
        assert s.get(Person, "孙丽").is_office
        d = s.get(Duty, "main-06b")
        assert (d.item, d.kind, d.frequency, d.source_document) == (
            "duty", "inspection", "每月至少1次", "园区主要负责人安全生产职责清单")
        assert "每月至少带队组织开展1次安全生产工作检查" in d.source_clause
        assert (s.get(Duty, "main-01").frequency, s.get(Duty, "main-01").item) == ("", "duty")
        assert s.get(Duty, "key-06a").item == "task" and s.get(Duty, "holiday-check").item == "holiday"
        assert s.get(Unit, "安全生产部").parent_id == "园区管委会"


def replace_person(catalog, name, **changes):
    return dataclasses.replace(catalog, people=tuple(
        dataclasses.replace(p, **changes) if p.name == name else p for p in catalog.people))


def test_changed_rows_are_updated_and_a_telegram_binding_survives(store, catalog):
    with store.session() as s:
        sync_catalog(s, catalog, T0)
    changed_person_and_duty(store, catalog)
    telegram_binding_survives(store, catalog)


def changed_person_and_duty(store, catalog):
    changed = replace_person(catalog, "王海涛", position="管委会常务副主任")
    changed = dataclasses.replace(changed, duties=tuple(
        dataclasses.replace(d, title="带队开展安全生产大检查") if d.id == "main-06b" else d for d in changed.duties))
    later = T0 + timedelta(days=1)
    with store.session() as s:
        report = sync_catalog(s, changed, later)
    assert report.updated == ["人员 王海涛", "职责 main-06b"] and not report.added and not report.retired
    with store.session() as s:
        p = s.get(Person, "王海涛")
        assert p.position == "管委会常务副主任" and p.updated_at == later
        d = s.get(Duty, "main-06b")
        assert d.title == "带队开展安全生产大检查" and d.updated_at == later
        assert s.get(Person, "赵明").updated_at is None  # untouched rows stay untouched
    with store.session() as s:  # and back
        assert sync_catalog(s, catalog, later).updated == ["人员 王海涛", "职责 main-06b"]


def instance(duty_id: str, person_id: str, key: str) -> DutyInstance:
    opens = datetime(2026, 3, 1, tzinfo=BEIJING)
    return DutyInstance(duty_id=duty_id, person_id=person_id, period_key=key, opens_at=opens,
                        due_at=opens + timedelta(days=30, hours=18), closes_at=opens + timedelta(days=33, hours=18))


def test_removed_rows_are_retired_with_history_kept_and_come_back(store, catalog):
    with store.session() as s:
        sync_catalog(s, catalog, T0)
        s.add(instance("holiday-check", "周敏", "2026-春节"))
        s.add(instance("other-07", "赵明", "2026-03"))
    removed = dataclasses.replace(
        catalog,
        people=tuple(p for p in catalog.people if p.name != "周敏"),
        duties=tuple(d for d in catalog.duties if d.id != "other-07"),
    )
    t1 = T0 + timedelta(days=2)
    with store.session() as s:
        report = sync_catalog(s, removed, t1)
    assert sorted(report.retired) == ["人员 周敏", "职责 other-07"] and not report.added
    with store.session() as s:
        assert s.get(Person, "周敏").retired_at == t1  # the row is kept
        assert s.get(Duty, "other-07").retired_at == t1
        kept = s.exec(select(DutyInstance).order_by(DutyInstance.id)).all()
        assert [(i.duty_id, i.person_id) for i in kept] == [("holiday-check", "周敏"), ("other-07", "赵明")]
    with store.session() as s:  # retiring is done once
        assert not sync_catalog(s, removed, t1 + timedelta(hours=1)).changed
    t2 = T0 + timedelta(days=3)
    with store.session() as s:
        back = sync_catalog(s, catalog, t2)
    assert sorted(back.updated) == ["人员 周敏", "职责 other-07"] and not back.added and not back.retired
    with store.session() as s:
        assert s.get(Person, "周敏").retired_at is None
        assert s.get(Duty, "other-07").retired_at is None
        assert len(s.exec(select(DutyInstance)).all()) == 2
    assert counts(store) == {"Unit": 8, "Person": 14, "Duty": 47}


def telegram_binding_survives(store, catalog):
    with store.session() as s:  # bound through an invite, not in the file
        s.get(Person, "赵明").telegram_id = 7_000_000_001
    with store.session() as s:
        assert not sync_catalog(s, catalog, T0 + timedelta(hours=1)).changed
    with store.session() as s:
        report = sync_catalog(s, replace_person(catalog, "赵明", position="副主任（兼）"), T0 + timedelta(hours=2))
    assert report.updated == ["人员 赵明"]
    with store.session() as s:
        assert s.get(Person, "赵明").telegram_id == 7_000_000_001
    # a telegram_id written in the file pre-binds
    with store.session() as s:
        sync_catalog(s, replace_person(catalog, "刘强", telegram_id=8_000_000_002), T0 + timedelta(hours=3))
    with store.session() as s:
        assert s.get(Person, "刘强").telegram_id == 8_000_000_002


def test_aware_datetimes_round_trip_as_utc(store):
    beijing = datetime(2026, 2, 14, 18, 0, 0, 123456, tzinfo=BEIJING)
    with store.session() as s:
        row = instance("main-06b", "张建国", "2026-02")
        row.due_at = beijing
        s.add(row)
        s.flush()
        row_id = row.id
    with store.session() as s:
        got = s.get(DutyInstance, row_id)
        assert got.due_at == beijing
        assert got.due_at.utcoffset() == timedelta(0) and got.due_at.tzinfo == UTC
        assert got.due_at.hour == 10  # 18:00 in Beijing is 10:00 UTC
        assert got.opens_at == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    # naive datetimes are refused, so nothing ambiguous is ever stored
    import pytest
    from sqlalchemy.exc import StatementError

    with pytest.raises(StatementError), store.session() as s:
        bad = instance("main-06b", "张建国", "2026-03")
        bad.due_at = datetime(2026, 3, 31, 18, 0)
        s.add(bad)
        s.flush()
