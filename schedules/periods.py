"""Calendar periods and their keys: 2026-03, 2026-Q2, 2026-H1, 2026, 2026-W07, 2026-03-2 (旬), 2026-03-15."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from .catalog import PeriodKind


@dataclass(frozen=True, order=True)
class Period:
    start: date  # first day
    end: date  # the day after the last day (half-open, so periods tile)
    key: str
    kind: PeriodKind

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def split(self, parts: int) -> list[Period]:
        """Equal sub-windows (by days) for `spread: true`, keyed 2026#1, 2026#2…"""
        days = (self.end - self.start).days
        bounds = [self.start + timedelta(days=days * i // parts) for i in range(parts + 1)]
        return [
            Period(bounds[i], bounds[i + 1], f"{self.key}#{i + 1}", self.kind) for i in range(parts)
        ]


def _month_start(year: int, month: int) -> date:
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, 1)


def period_containing(kind: PeriodKind, day: date) -> Period:
    y, m = day.year, day.month
    match kind:
        case PeriodKind.DAY:
            return Period(day, day + timedelta(days=1), day.isoformat(), kind)
        case PeriodKind.WEEK:
            start = day - timedelta(days=day.weekday())
            iso = start.isocalendar()
            return Period(start, start + timedelta(days=7), f"{iso.year}-W{iso.week:02d}", kind)
        case PeriodKind.XUN:
            n = min((day.day - 1) // 10, 2)
            start = date(y, m, 1 + 10 * n)
            end = date(y, m, 11 + 10 * n) if n < 2 else _month_start(y, m + 1)
            return Period(start, end, f"{y}-{m:02d}-{n + 1}", kind)
        case PeriodKind.MONTH:
            return Period(date(y, m, 1), _month_start(y, m + 1), f"{y}-{m:02d}", kind)
        case PeriodKind.QUARTER:
            q = (m - 1) // 3
            return Period(date(y, 3 * q + 1, 1), _month_start(y, 3 * q + 4), f"{y}-Q{q + 1}", kind)
        case PeriodKind.HALF:
            h = (m - 1) // 6
            return Period(date(y, 6 * h + 1, 1), _month_start(y, 6 * h + 7), f"{y}-H{h + 1}", kind)
        case PeriodKind.YEAR:
            return Period(date(y, 1, 1), date(y + 1, 1, 1), str(y), kind)
    raise ValueError(kind)


def periods_between(kind: PeriodKind, start: date, end: date) -> Iterator[Period]:
    """Every period of `kind` that overlaps [start, end)."""
    day = start
    while day < end:
        p = period_containing(kind, day)
        yield p
        day = p.end
