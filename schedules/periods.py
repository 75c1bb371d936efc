"""Calendar periods and their keys: 2026-03, 2026-Q2, 2026-H1, 2026, 2026-W07, 2026-03-2 (旬), 2026-03-15."""

from __future__ import annotations

import re
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


class MalformedPeriod(ValueError):
    """A period key that looks like one (it starts with a year) but names no period."""

    def __init__(self, key: str, why: str, why_en: str):
        super().__init__(f"{key!r}: {why_en}")
        self.key, self.why, self.why_en = key, why, why_en


_KEY = re.compile(r"(?P<year>[0-9]{4})(?:-(?:(?P<q>Q[0-9]+)|(?P<h>H[0-9]+)|(?P<w>W[0-9]+)|(?P<m>[0-9]{1,2})"
                  r"(?:-(?P<d>[0-9]{1,2}))?|(?P<name>[^\x00-\x7f]+)))?(?:#(?P<part>[0-9]+))?")
MIN_YEAR, MAX_YEAR = 1900, 2100


def looks_like_period(key: str) -> bool:
    """Keys starting with a number are periods (2026-11); anything else may be a task id."""
    return key[:1].isdigit()


def check_key(key: str) -> str:
    """The kind of a period key (day, xun, week, month, quarter, half, year, holiday); raises
    MalformedPeriod naming what is wrong with one that cannot be (2026-13, 2026-Q5, 2026-02-30)."""
    m = _KEY.fullmatch(key)
    if m is None:
        raise MalformedPeriod(key, "无法识别的写法", "not a period key")
    year = int(m["year"])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise MalformedPeriod(key, f"年份须在 {MIN_YEAR}–{MAX_YEAR}", f"the year must be {MIN_YEAR}-{MAX_YEAR}")
    if m["q"] is not None:
        _within(key, int(m["q"][1:]), 1, 4, "季度", "quarter")
        return "quarter"
    if m["h"] is not None:
        _within(key, int(m["h"][1:]), 1, 2, "半年", "half")
        return "half"
    if m["w"] is not None:
        weeks = date(year, 12, 28).isocalendar().week
        _within(key, int(m["w"][1:]), 1, weeks, "周", "ISO week")
        return "week"
    if m["name"] is not None:
        from .holidays import HOLIDAY_NAMES

        if m["name"] not in HOLIDAY_NAMES:
            raise MalformedPeriod(key, f"未知节日 “{m['name']}”", "unknown holiday")
        return "holiday"
    if m["m"] is None:
        return "year"
    month = int(m["m"])
    _within(key, month, 1, 12, "月份", "month")
    if m["d"] is None:
        return "month"
    if len(m["d"]) == 1:
        _within(key, int(m["d"]), 1, 3, "旬", "xun (1-3)")
        return "xun"
    try:
        date(year, month, int(m["d"]))
    except ValueError:
        raise MalformedPeriod(key, "没有这一天", "no such day") from None
    return "day"


def _within(key: str, value: int, low: int, high: int, zh: str, en: str) -> None:
    if not low <= value <= high:
        raise MalformedPeriod(key, f"{zh}须在 {low}–{high} 之间", f"{en} must be {low}-{high}")
