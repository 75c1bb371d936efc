"""Calendar periods and their keys.

Plain periods: 2026-03 (month), 2026-Q2, 2026-H1, 2026 (year), 2026-W07 (ISO week), 2026-03-2 (旬),
2026-03-H1 / 2026-03-H2 (半月: 1st-15th, 16th-end), 2026-03-15 (day).

A frequency's refinements (`Frequency.n`, `days`, `weekday`, `due`, `which`, `season`) give the
periods of one duty (`frequency_periods`):
- every 2 / 4 months: blocks tiling the year from January, 2026-B1…B6 (two months) and 2026-T1…T3 (four);
- every n years: the years anchor + k·n only, keyed like a year (2026, 2028…): "至少每两年一次" is due in
  2026 and 2028, and nothing is asked in 2027;
- fixed days (每月10日、24日): one period per day, from the day after the previous one to that day, keyed
  by its due date (2026-03-10, 2026-03-24), so the periods still tile time;
- a due day inside the period (每周五, 每月5日前, 每年11月底前): the plain period, due on that day;
- a named half (上半年): only that half;
- a season (汛期 05-01…09-30): 2026-汛期前 (1 January, or the day after the previous season, to the day
  before it starts), 2026-汛期 (the season), 2026-汛期后 (the day after it to the end of the next month).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from .catalog import Frequency, PeriodKind, Season


@dataclass(frozen=True, order=True)
class Period:
    start: date  # first day
    end: date  # the day after the last day (half-open, so periods tile)
    key: str
    kind: PeriodKind
    due: date | None = field(default=None, compare=False)  # None: the last day

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def due_day(self) -> date:
        return self.due or self.last_day

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


def _day_in_month(year: int, month: int, day: int) -> date:
    """The `day` of a month, or its last day when the month is shorter (每月31日 in February)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


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
        case PeriodKind.HALFMONTH:
            if day.day <= 15:
                return Period(date(y, m, 1), date(y, m, 16), f"{y}-{m:02d}-H1", kind)
            return Period(date(y, m, 16), _month_start(y, m + 1), f"{y}-{m:02d}-H2", kind)
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


# Every n months: the letter of the block in the key (2026-B3: the third two-month block).
MONTH_BLOCK_LETTER = {2: "B", 4: "T"}


def month_block_containing(n: int, day: date) -> Period:
    i = (day.month - 1) // n
    start = date(day.year, n * i + 1, 1)
    return Period(start, _month_start(day.year, n * i + n + 1), f"{day.year}-{MONTH_BLOCK_LETTER[n]}{i + 1}",
                  PeriodKind.MONTH)


def _month_blocks(n: int, start: date, end: date) -> Iterator[Period]:
    day = start
    while day < end:
        p = month_block_containing(n, day)
        yield p
        day = p.end


def _cycle_years(n: int, anchor: int, start: date, end: date) -> Iterator[Period]:
    for y in range(start.year, end.year + 1):
        if (y - anchor) % n == 0:
            p = period_containing(PeriodKind.YEAR, date(y, 1, 1))
            if p.end > start and p.start < end:
                yield p


def _fixed_days(days: tuple[int, ...], start: date, end: date) -> Iterator[Period]:
    """每月10日、24日: periods ending on each day, from the day after the previous one."""
    def dues(year: int, month: int) -> list[date]:
        return sorted({_day_in_month(year, month, d) for d in days})

    y, m = start.year, start.month
    previous = dues(*divmod_month(y, m - 1))[-1]
    while True:
        for due in dues(y, m):
            if previous + timedelta(days=1) >= end:
                return
            p = Period(previous + timedelta(days=1), due + timedelta(days=1), due.isoformat(), PeriodKind.MONTH)
            if p.end > start:
                yield p
            previous = due
        y, m = divmod_month(y, m + 1)


def divmod_month(year: int, month: int) -> tuple[int, int]:
    """(year, month) for a month number that may run past December or before January."""
    return year + (month - 1) // 12, (month - 1) % 12 + 1


def season_span(season: Season, year: int) -> tuple[date, date]:
    """First and last day of the season that starts in `year`."""
    first = _day_in_month(year, *season.start)
    last_year = year if season.end >= season.start else year + 1
    return first, _day_in_month(last_year, *season.end)


def season_period(season: Season, when: str, year: int) -> Period:
    first, last = season_span(season, year)
    if when == "during":
        return Period(first, last + timedelta(days=1), f"{year}-{season.name}", PeriodKind.YEAR)
    if when == "before":
        previous_last = season_span(season, year - 1)[1]
        opens = date(year, 1, 1)
        if opens <= previous_last or opens >= first:
            opens = previous_last + timedelta(days=1)
        return Period(opens, first, f"{year}-{season.name}前", PeriodKind.YEAR)
    # after: to the end of the month after the season ends, and never into the next season
    after = last + timedelta(days=30)
    due = _day_in_month(after.year, after.month, 31)
    due = min(due, season_span(season, year + 1)[0] - timedelta(days=1))
    return Period(last + timedelta(days=1), due + timedelta(days=1), f"{year}-{season.name}后", PeriodKind.YEAR)


def _season_periods(season: Season, when: str, start: date, end: date) -> Iterator[Period]:
    for y in range(start.year - 1, end.year + 1):
        p = season_period(season, when, y)
        if p.end > start and p.start < end:
            yield p


def _with_due(p: Period, f: Frequency) -> Period:
    if f.weekday is not None:
        return Period(p.start, p.end, p.key, p.kind, p.start + timedelta(days=f.weekday))
    month, day = f.due  # type: ignore[misc]
    if month == 0:  # 每月5日前: that day of the period's (first) month
        due = _day_in_month(p.start.year, p.start.month, day)
    else:
        due = _day_in_month(p.start.year, month, day)
    return Period(p.start, p.end, p.key, p.kind, min(max(due, p.start), p.last_day))


def frequency_periods(f: Frequency, start: date, end: date, seasons: dict[str, Season],
                      start_year: int) -> Iterator[Period]:
    """The periods of a duty with frequency `f` that overlap [start, end), in order."""
    if f.plain:
        yield from periods_between(f.every, start, end)
    elif f.season is not None:
        yield from _season_periods(seasons[f.season], f.when or "during", start, end)
    elif f.days:
        yield from _fixed_days(f.days, start, end)
    elif f.n > 1 and f.every is PeriodKind.YEAR:
        yield from _cycle_years(f.n, f.anchor if f.anchor is not None else start_year, start, end)
    elif f.n > 1:
        yield from _month_blocks(f.n, start, end)
    elif f.which is not None:
        yield from (p for p in periods_between(f.every, start, end) if p.key.endswith(f.which))
    else:
        yield from (_with_due(p, f) for p in periods_between(f.every, start, end))


class MalformedPeriod(ValueError):
    """A period key that looks like one (it starts with a year) but names no period."""

    def __init__(self, key: str, why: str, why_en: str):
        super().__init__(f"{key!r}: {why_en}")
        self.key, self.why, self.why_en = key, why, why_en


_KEY = re.compile(r"(?P<year>[0-9]{4})(?:-(?:(?P<q>Q[0-9]+)|(?P<h>H[0-9]+)|(?P<w>W[0-9]+)|(?P<b>[BT][0-9]+)"
                  r"|(?P<m>[0-9]{1,2})(?:-(?:(?P<d>[0-9]{1,2})|(?P<mh>H[0-9]+)))?|(?P<name>[^\x00-\x7f]+)))?"
                  r"(?:#(?P<part>[0-9]+))?")
MIN_YEAR, MAX_YEAR = 1900, 2100


def looks_like_period(key: str) -> bool:
    """Keys starting with a number are periods (2026-11); anything else may be a task id."""
    return key[:1].isdigit()


def check_key(key: str) -> str:
    """The kind of a period key (day, xun, half-month, week, month, block, quarter, half, year, named); raises
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
    if m["b"] is not None:  # two- and four-month blocks
        _within(key, int(m["b"][1:]), 1, 6 if m["b"][0] == "B" else 3, "月块", "month block")
        return "block"
    if m["name"] is not None:  # a holiday check (2026-春节) or a season (2026-汛期前): named in the catalogue
        return "named"
    if m["m"] is None:
        return "year"
    month = int(m["m"])
    _within(key, month, 1, 12, "月份", "month")
    if m["mh"] is not None:
        _within(key, int(m["mh"][1:]), 1, 2, "半月", "half-month")
        return "half-month"
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
