"""Load the catalogue into the store: changed rows updated, removed ones retired, history kept."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from schedules.catalog import Catalog, HolidayCheck, Task
from schedules.catalog import Duty as CatalogDuty

from .models import Duty, Person, Unit


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.retired)


def _day(d: date | None) -> datetime | None:
    return datetime(d.year, d.month, d.day, tzinfo=UTC) if d else None


def _hash(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


def _duty_row(item: CatalogDuty | Task | HolidayCheck) -> dict:
    if isinstance(item, CatalogDuty):
        kind, freq = "duty", item.frequency.phrase if item.frequency else ""
    elif isinstance(item, Task):
        kind, freq = "task", f"{item.due.isoformat()}前"
    else:
        kind, freq = "holiday", f"节前{item.days_before}天"
    return {
        "item": kind, "title": item.title, "kind": item.kind.value, "frequency": freq,
        "source_document": item.source.document, "source_clause": item.source.clause,
        "content_hash": _hash(asdict(item)),
    }


def _upsert(session: Session, existing: dict, model: type, key: str, values: dict, now: datetime,
            report: SyncReport, label: str, compare: dict | None = None) -> None:
    row = existing.get(key)
    if row is None:
        session.add(model(id=key, **values))
        report.added.append(label)
        return
    check = compare if compare is not None else values
    if row.retired_at is not None or any(getattr(row, k) != v for k, v in check.items()):
        for k, v in values.items():
            setattr(row, k, v)
        row.retired_at = None
        if hasattr(row, "updated_at"):
            row.updated_at = now
        report.updated.append(label)


def _retire(existing: dict, keep: set[str], now: datetime, report: SyncReport, label: str,
            only: dict | None = None) -> None:
    for row in existing.values():
        if row.retired_at is not None or row.id in keep:
            continue
        if any(getattr(row, column) not in values for column, values in (only or {}).items()):
            continue
        row.retired_at = now
        report.retired.append(f"{label} {row.id}")


def _all(session: Session, model: type) -> dict:
    """Every row by id, in one query: a 10,000-person sync must not cost a query per person."""
    return {row.id: row for row in session.exec(select(model))}


def sync_catalog(session: Session, catalog: Catalog, now: datetime) -> SyncReport:
    report = SyncReport()
    units = _all(session, Unit)
    for u in catalog.units:
        _upsert(session, units, Unit, u.id, {"name": u.name, "parent_id": u.parent}, now, report, f"单位 {u.id}")
    _retire(units, {u.id for u in catalog.units}, now, report, "单位")

    people = _all(session, Person)
    for p in catalog.people:
        values = {
            "name": p.name, "unit_id": p.unit, "position": p.position, "roles": list(p.roles),
            "deputy_id": catalog.find_person(p.deputy).id if p.deputy else None,
            "superior_id": catalog.find_person(p.superior).id if p.superior else None,
            "is_office": p.office, "term_from": _day(p.term_from), "term_to": _day(p.term_to),
            "phone": p.phone,
        }
        # A binding made through an invite survives a sync; a telegram_id in the file pre-binds.
        if p.telegram_id:
            values["telegram_id"] = p.telegram_id
        _upsert(session, people, Person, p.id, values, now, report, f"人员 {p.name}")
    _retire(people, {p.id for p in catalog.people}, now, report, "人员")

    items: list[CatalogDuty | Task | HolidayCheck] = [*catalog.duties, *catalog.tasks, *catalog.holiday_checks]
    duties = _all(session, Duty)
    for item in items:
        values = _duty_row(item)
        _upsert(session, duties, Duty, item.id, values, now, report, f"职责 {item.id}",
                compare={"content_hash": values["content_hash"]})
    # Campaigns are launched from Telegram, not written in the file: sync leaves them alone.
    _retire(duties, {i.id for i in items}, now, report, "职责", only={"item": {"duty", "task", "holiday"}})
    session.flush()
    return report
