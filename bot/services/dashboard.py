"""The office's overview (总览): today's open periods, completion per unit, the overall rate, a
12-month trend, the overdue count and the active 叫应 — each one a few counting queries over the
instance indexes, never a scan of the rows themselves."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from bot.services import status
from bot.services.status import Progress, Stats
from bot.store.models import Callout, CalloutTarget, DutyInstance

CLOSED = ("done", "late", "missed", "excused")
CALENDAR_KEY = re.compile(r"^\d{4}(-(\d{2}|Q\d|H\d|W\d{2}|\d{2}-\d{1,2}|\d{2}-\d))?(#\d+)?$")
TASKS = "tasks"  # PeriodLine.period of the one-off tasks and holiday checks


@dataclass
class PeriodLine:
    period: str
    progress: Progress


@dataclass
class MonthRate:
    year: int
    month: int
    progress: Progress

    @property
    def label(self) -> str:
        return f"{self.month}月"


@dataclass
class ActiveCallout:
    id: int
    level: str
    hazard: str
    issued_at: datetime
    total: int
    acked: int


@dataclass
class Overview:
    stats: Stats
    periods: list[PeriodLine] = field(default_factory=list)
    overdue: int = 0
    trend: list[MonthRate] = field(default_factory=list)
    callouts: list[ActiveCallout] = field(default_factory=list)


def overview(session: Session, now: datetime, tz: ZoneInfo) -> Overview:
    return Overview(stats=status.current_stats(session, now), periods=open_periods(session, now),
                    overdue=overdue_count(session, now), trend=trend(session, now, tz),
                    callouts=active_callouts(session))


def open_periods(session: Session, now: datetime) -> list[PeriodLine]:
    cur = status.current_window(now, DutyInstance.period_key, DutyInstance.status)
    query = select(cur.c.period_key, cur.c.status, func.count()).group_by(cur.c.period_key, cur.c.status)
    lines: dict[str, Progress] = {}
    for period, st, count in session.exec(query):
        # One-off tasks have their id as period key: one line for all of them.
        key = period if CALENDAR_KEY.match(period) else TASKS
        lines.setdefault(key, Progress()).add(st, count)
    return [PeriodLine(p, lines[p]) for p in sorted(lines, key=lambda k: (k == TASKS, k))]


def overdue_count(session: Session, now: datetime) -> int:
    """Open instances past their due moment that can still be reported."""
    return int(session.exec(select(func.count()).select_from(DutyInstance).where(
        DutyInstance.status == "open", DutyInstance.due_at < now, DutyInstance.closes_at > now)).one())


def month_start(year: int, month: int, tz: ZoneInfo) -> datetime:
    return datetime(year, month, 1, tzinfo=tz).astimezone(UTC)


def last_months(now: datetime, tz: ZoneInfo, count: int = 12) -> list[tuple[int, int]]:
    local = now.astimezone(tz)
    year, month = local.year, local.month
    out = []
    for _ in range(count):
        out.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(out))


def trend(session: Session, now: datetime, tz: ZoneInfo, months: int = 12) -> list[MonthRate]:
    """Completion of the instances due in each of the last `months` months (closed ones only:
    the current month fills in as its instances close). One range count per month over
    ix_instance_status_due."""
    out = []
    for year, month in last_months(now, tz, months):
        start = month_start(year, month, tz)
        end = month_start(year + (month == 12), month % 12 + 1, tz)
        progress = Progress()
        query = (select(DutyInstance.status, func.count())
                 .where(DutyInstance.status.in_(CLOSED), DutyInstance.due_at >= start,  # type: ignore[attr-defined]
                        DutyInstance.due_at < end)
                 .group_by(DutyInstance.status))
        for st, count in session.exec(query):
            progress.add(st, count)
        out.append(MonthRate(year, month, progress))
    return out


def active_callouts(session: Session) -> list[ActiveCallout]:
    callouts = list(session.exec(select(Callout).where(Callout.lifted_at.is_(None)).order_by(Callout.issued_at)))  # type: ignore[union-attr]
    out = []
    for c in callouts:
        total, acked = session.exec(
            select(func.count(), func.count(CalloutTarget.acked_at)).where(CalloutTarget.callout_id == c.id)).one()
        out.append(ActiveCallout(c.id, c.level, c.hazard, c.issued_at, int(total), int(acked)))
    return out
