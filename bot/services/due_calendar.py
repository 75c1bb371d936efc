"""The office's month calendar: per local day, the duties due that day with how many people owe
them and how many have done so. Counted by the database (due_at, duty, status), so a month of
10,000 people is a few hundred rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from bot.store.models import Duty, DutyInstance


@dataclass
class DayItem:
    duty_id: str
    title: str
    total: int = 0
    completed: int = 0


def month(session: Session, year: int, month: int, tz: ZoneInfo) -> dict[date, list[DayItem]]:
    start = datetime(year, month, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz).astimezone(UTC)
    rows = session.exec(select(DutyInstance.due_at, DutyInstance.duty_id, Duty.title, DutyInstance.status, func.count())
                        .join(Duty, Duty.id == DutyInstance.duty_id, isouter=True)
                        .where(DutyInstance.due_at >= start, DutyInstance.due_at < end)
                        .group_by(DutyInstance.due_at, DutyInstance.duty_id, Duty.title, DutyInstance.status))
    out: dict[date, dict[str, DayItem]] = defaultdict(dict)
    for due, duty_id, title, st, count in rows:
        day = due.astimezone(tz).date()
        item = out[day].setdefault(duty_id, DayItem(duty_id, title or duty_id))
        item.total += count
        if st in ("done", "late"):
            item.completed += count
    return {d: sorted(items.values(), key=lambda i: i.title) for d, items in out.items()}
