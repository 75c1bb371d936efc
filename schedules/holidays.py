"""Working days and official holidays, from chinese-calendar with the catalogue's overrides.

chinese-calendar only knows the years the State Council has published. For a later year the
catalogue's `holidays:` / `extra_workdays:` are used when given; otherwise weekends are the only
days off and the fixed-date holidays stand in, and `Calendar.warnings` says so once per year.

School breaks (寒假, 暑假) are holidays a check can be due before ("寒暑假放假前开展一次隐患大排查"),
but no calendar knows them: each school or education bureau sets its own dates, so they come only
from `holidays:` and are not days off (the office, and the school's staff, still work). A check
before a break whose dates are not written for a year is not scheduled, and the warnings say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

from .catalog import HolidaySpan

# Canonical Chinese names, with the aliases lists use (五一, 十一...).
HOLIDAY_NAMES: dict[str, str] = {
    "元旦": "元旦", "春节": "春节", "清明节": "清明节", "清明": "清明节",
    "劳动节": "劳动节", "五一": "劳动节", "端午节": "端午节", "端午": "端午节",
    "中秋节": "中秋节", "中秋": "中秋节", "国庆节": "国庆节", "国庆": "国庆节", "十一": "国庆节",
    "寒假": "寒假", "暑假": "暑假",
}
SCHOOL_BREAKS = frozenset({"寒假", "暑假"})
_FROM_LIBRARY = {
    chinese_calendar.Holiday.new_years_day.value: "元旦",
    chinese_calendar.Holiday.spring_festival.value: "春节",
    chinese_calendar.Holiday.tomb_sweeping_day.value: "清明节",
    chinese_calendar.Holiday.labour_day.value: "劳动节",
    chinese_calendar.Holiday.dragon_boat_festival.value: "端午节",
    chinese_calendar.Holiday.mid_autumn_festival.value: "中秋节",
    chinese_calendar.Holiday.national_day.value: "国庆节",
}
FIXED_DATE = {"元旦": (1, 1), "劳动节": (5, 1), "国庆节": (10, 1)}


def _library_day(day: date) -> tuple[bool, str | None] | None:
    """(day off, canonical holiday name) from chinese-calendar, or None outside its data."""
    try:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return is_holiday, (_FROM_LIBRARY.get(name) if is_holiday and name else None)


@lru_cache(maxsize=64)
def _library_year(year: int) -> tuple[tuple[tuple[str, date, date], ...], frozenset[date], frozenset[date]] | None:
    """(holidays of the year, days off, 调休 working days), or None when the library has no data.

    A holiday belongs to the year of its last day: 元旦 2019 ran 2018-12-30..2019-01-01. Its span
    runs across the weekend days chinese-calendar leaves unnamed (端午 2011: Sat named, Sun not,
    Mon named) and across another holiday inside it (国庆 2025 with 中秋 on 10-06), so that each
    holiday has one span and one start a year.
    """
    if _library_day(date(year, 6, 1)) is None:
        return None
    spans: list[list] = []  # [name, start, end]
    latest: dict[str, list] = {}
    off, worked = set(), set()
    last_workday: date | None = None
    day, stop = date(year, 1, 1) - timedelta(days=21), date(year + 1, 1, 1) + timedelta(days=21)
    while day < stop:
        info = _library_day(day)
        if info is not None:
            is_holiday, canonical = info
            weekend = day.weekday() >= 5
            if day.year == year:
                if is_holiday and not weekend:
                    off.add(day)
                if not is_holiday and weekend:
                    worked.add(day)
            if not is_holiday:
                last_workday = day
            elif canonical:
                span = latest.get(canonical)
                if span and (last_workday is None or last_workday < span[2]):
                    span[2] = day  # no working day since: the same holiday goes on
                else:
                    latest[canonical] = span = [canonical, day, day]
                    spans.append(span)
        day += timedelta(days=1)
    of_year = tuple((n, a, b) for n, a, b in spans if b.year == year)
    return of_year, frozenset(off), frozenset(worked)


class Calendar:
    def __init__(self, overrides: Iterable[HolidaySpan] = (), extra_workdays: Iterable[date] = ()):
        spans = tuple(overrides)
        self.overrides = tuple(s for s in spans if s.name not in SCHOOL_BREAKS)  # official: days off
        self.breaks = tuple(s for s in spans if s.name in SCHOOL_BREAKS)
        self.extra_workdays = frozenset(extra_workdays)
        self.warnings: list[str] = []
        self._warned: set[object] = set()
        self._override_off = {
            s.start + timedelta(days=i)
            for s in self.overrides
            for i in range((s.end - s.start).days + 1)
        }

    def _year(self, year: int):
        data = _library_year(year)
        if data is None:
            override = [s for s in self.overrides if s.start.year == year or s.end.year == year]
            if not override:
                self._warn_once(year, f"chinese-calendar 没有 {year} 年的节假日数据，duties.yaml 也未提供 holidays: "
                                      f"按周末和固定日期节日（元旦、劳动节、国庆节）计算 / no holiday data for {year}: "
                                      "using weekends and fixed-date holidays only")
        return data

    def is_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self._override_off:
            return False
        data = self._year(day.year)
        if data is not None:
            _, off, worked = data
            return day in worked or (day.weekday() < 5 and day not in off)
        if day.weekday() >= 5:
            return False
        has_override = any(s.start.year == day.year for s in self.overrides)
        return has_override or (day.month, day.day) not in FIXED_DATE.values()

    def last_workday_on_or_before(self, day: date, floor: date) -> date:
        """The last working day ≤ day, not before floor (a period with no working day keeps its end)."""
        d = day
        while d >= floor:
            if self.is_workday(d):
                return d
            d -= timedelta(days=1)
        return day

    def _warn_once(self, key: object, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.warnings.append(message)

    def holiday_starts(self, name: str, year: int) -> list[date]:
        """First days of the named holiday of a year (one at most; 元旦's may be in the December before)."""
        canonical = HOLIDAY_NAMES[name]
        if canonical in SCHOOL_BREAKS:
            return self._break_starts(canonical, year)
        override = [s.start for s in self.overrides if HOLIDAY_NAMES.get(s.name) == canonical and s.end.year == year]
        if override:
            return override
        data = self._year(year)
        if data is not None:
            return [start for n, start, _ in data[0] if n == canonical]
        if any(s.end.year == year for s in self.overrides):
            # The year is given explicitly and this holiday is not in it: say so, as an office
            # that listed only 春节 would not expect 国庆节's check to vanish.
            self._warn_once((year, canonical), f"duties.yaml 的 holidays: 列出了 {year} 年的节日但没有{canonical}，"
                                               f"{canonical}前的检查不会排期 / holidays: lists {year} without {canonical}; "
                                               "no check is scheduled before it")
            return []
        if canonical in FIXED_DATE:
            return [date(year, *FIXED_DATE[canonical])]
        return []

    def _break_starts(self, name: str, year: int) -> list[date]:
        starts = [s.start for s in self.breaks if s.name == name and s.end.year == year]
        if not starts:
            self._warn_once((year, name), f"duties.yaml 的 holidays: 没有 {year} 年的{name}日期，{name}前的检查不会排期"
                                          f"（写明 - {{name: {name}, from: …, to: …}}）/ no {year} dates for {name}: "
                                          "no check is scheduled before it")
        return starts
