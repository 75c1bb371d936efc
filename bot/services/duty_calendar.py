"""The catalogue and its calendar as the web console shows them (/duties, /calendar, /my/duties):
the items with their source clause, who, frequency and reminders in words, and a month of due dates.

Both come from the compiled catalogue (schedules/: pure, no store), so a month ahead shows what
will be due before any instance exists, exactly as `dutybot schedule` and the calendar feeds do.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.texts import console as C
from schedules import Schedule
from schedules.catalog import Catalog, Duty, HolidayCheck, Reminder, Task, Who

SECTIONS = ("duties", "tasks", "holiday_checks")


@dataclass
class Item:
    section: str  # duties | tasks | holiday_checks
    id: str
    title: str
    kind: str
    document: str
    clause: str
    who: str
    frequency: str
    reminders: str
    people: list[str]  # names


def _who(catalog: Catalog, who: Who) -> str:
    parts = []
    if who.roles:
        parts.append(C.WHO_ROLES.format(roles="、".join(who.roles)))
    if who.people:
        names = [(catalog.find_person(p).name if catalog.find_person(p) else p) for p in who.people]
        parts.append(C.WHO_PEOPLE.format(people="、".join(names)))
    text = "；".join(parts)
    if who.units:
        names = {u.id: u.name for u in catalog.units}
        text += C.WHO_UNITS.format(units="、".join(names.get(u, u) for u in who.units))
    return text


def reminder_text(r: Reminder) -> str:
    if r.anchor == "open":
        return C.REMINDER_LABELS["open"] if not r.days else f"{C.REMINDER_LABELS['open']}{r.days:+d}天"
    if r.hours is not None:
        n = abs(r.hours)
        n_text = f"{n:g}"
        return C.REMINDER_HOURS_BEFORE.format(n=n_text) if r.hours < 0 else C.REMINDER_HOURS_AFTER.format(n=n_text)
    if r.days < 0:
        return C.REMINDER_DAYS_BEFORE.format(n=-r.days)
    if r.days > 0:
        return C.REMINDER_DAYS_AFTER.format(n=r.days)
    return C.REMINDER_DAY_OF


def _reminders(catalog: Catalog, rules: tuple[Reminder, ...] | None) -> str:
    rules = catalog.defaults.reminders if rules is None else rules
    if not rules:
        return "—"
    at = catalog.defaults.remind_at.strftime("%H:%M")
    return "、".join(reminder_text(r) for r in rules) + C.REMINDERS_AT.format(at=at)


def _frequency(item: Duty | Task | HolidayCheck) -> str:
    if isinstance(item, Task):
        return C.DUTY_ONE_OFF.format(due=f"{item.due.year}年{item.due.month}月{item.due.day}日")
    if isinstance(item, HolidayCheck):
        return C.DUTY_HOLIDAY.format(holidays="、".join(item.holidays), days=item.days_before)
    if item.frequency is None:
        return C.DUTY_UNSCHEDULED
    return item.frequency.phrase or str(item.frequency.every)


def catalogue(catalog: Catalog, person_id: str | None = None) -> list[Item]:
    """Every item of the catalogue (unscheduled clauses too), or only those that apply to a person."""
    out = []
    for section in SECTIONS:
        for item in getattr(catalog, section):
            members = catalog.members(item.who)
            if person_id is not None and person_id not in {p.id for p in members}:
                continue
            out.append(Item(section, item.id, item.title, str(item.kind), item.source.document, item.source.clause,
                            _who(catalog, item.who), _frequency(item),
                            _reminders(catalog, getattr(item, "reminders", None)), [p.name for p in members]))
    return out


# ---------------------------------------------------------------------------------------------
# A month of due dates
# ---------------------------------------------------------------------------------------------
@dataclass
class Entry:
    title: str
    period: str
    people: list[str]
    due: str  # HH:MM


@dataclass
class Day:
    day: date
    in_month: bool
    workday: bool
    today: bool
    entries: list[Entry] = field(default_factory=list)


@dataclass
class Month:
    year: int
    month: int
    weeks: list[list[Day]]
    count: int  # instances due this month

    @property
    def prev(self) -> str:
        d = date(self.year, self.month, 1) - timedelta(days=1)
        return f"{d.year}-{d.month:02d}"

    @property
    def next(self) -> str:
        d = date(self.year, self.month, 28) + timedelta(days=7)
        return f"{d.year}-{d.month:02d}"

    @property
    def key(self) -> str:
        return f"{self.year}-{self.month:02d}"


def parse_month(value: str) -> tuple[int, int]:
    """2026-11 → (2026, 11); ValueError otherwise."""
    year, sep, month = value.strip().partition("-")
    if not (sep and year.isdigit() and month.isdigit() and len(year) == 4 and 1 <= int(month) <= 12
            and 2000 <= int(year) <= 2100):
        raise ValueError(value)
    return int(year), int(month)


def month(schedule: Schedule, year: int, month_no: int, today: date, person_id: str | None = None) -> Month:
    """The weeks (Monday first) of a month with, per day, the instances due that day: one entry
    per item and period, with the people it is due for."""
    first = date(year, month_no, 1)
    last = date(year, month_no, calendar.monthrange(year, month_no)[1])
    grouped: dict[date, dict[tuple[str, str], Entry]] = defaultdict(dict)
    count = 0
    for spec in schedule.expand(first, last + timedelta(days=1), person=person_id):
        w = spec.window
        due = w.due_at.astimezone(schedule.tz)
        if not first <= due.date() <= last:
            continue
        count += 1
        entry = grouped[due.date()].setdefault((w.duty_id, w.period_key),
                                               Entry(w.title, w.period_key, [], due.strftime("%H:%M")))
        entry.people.append(spec.person.name)
    start = first - timedelta(days=first.weekday())
    weeks = []
    d = start
    while d <= last or d.weekday() != 0:
        if d.weekday() == 0:
            weeks.append([])
        entries = sorted(grouped.get(d, {}).values(), key=lambda e: (e.due, e.title))
        weeks[-1].append(Day(d, d.month == month_no, schedule.calendar.is_workday(d), d == today, entries))
        d += timedelta(days=1)
    return Month(year, month_no, weeks, count)
