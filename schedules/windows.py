"""Duty windows: for each duty, task and holiday check, the concrete periods with their times.

A Window is person-independent; crossing windows with the people a duty applies to gives the
instances (see `expand`). Times are aware datetimes in the catalogue's timezone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .catalog import Catalog, Duty, DutyKind, HolidayCheck, Person, QuietHours, Reminder, Task, Who
from .holidays import Calendar
from .periods import Period, frequency_periods

ItemKind = str  # "duty" | "task" | "holiday"


@dataclass(frozen=True, slots=True)
class Window:
    duty_id: str
    item: ItemKind
    title: str
    kind: DutyKind
    period_key: str
    opens_at: datetime
    due_at: datetime
    closes_at: datetime  # check-ins until then still count (as late)
    required: int
    reminders: tuple[tuple[str, datetime], ...]  # (label, when), sorted by time


@dataclass(frozen=True, slots=True)
class InstanceSpec:
    window: Window
    person: Person


def _move_out_of_quiet(when: datetime, quiet: QuietHours) -> datetime:
    """A routine message due inside quiet hours goes out when they end."""
    t = when.timetz().replace(tzinfo=None)
    if not quiet.contains(t):
        return when
    end_day = when.date() if t < quiet.end else when.date() + timedelta(days=1)
    return datetime.combine(end_day, quiet.end, when.tzinfo)


class Schedule:
    """The catalogue's calendar: windows for any date range, and who they apply to."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.tz = ZoneInfo(catalog.timezone)
        self.calendar = Calendar(catalog.holidays, catalog.extra_workdays)
        self.start_year = catalog.start_year or date.today().year
        self._members: dict[Who, list[Person]] = {}

    # -- helpers -------------------------------------------------------------------------------
    def at(self, day: date, t: time) -> datetime:
        return datetime.combine(day, t, self.tz)

    def members(self, who: Who) -> list[Person]:
        if who not in self._members:
            self._members[who] = self.catalog.members(who)
        return self._members[who]

    def _reminders(self, rules: tuple[Reminder, ...], opens_at: datetime, due_at: datetime,
                   closes_at: datetime) -> tuple[tuple[str, datetime], ...]:
        d = self.catalog.defaults
        out: dict[datetime, str] = {}
        for r in rules:
            if r.hours is not None:
                when = due_at + timedelta(hours=r.hours)
            elif r.anchor == "open":
                when = self.at(opens_at.date() + timedelta(days=r.days), d.remind_at)
            else:
                when = self.at(due_at.date() + timedelta(days=r.days), d.remind_at)
            if when < opens_at:
                # An offset that falls before the window opens (-7d of a 7-day window) goes out on
                # the opening day at the usual time, not at midnight when the window opens.
                when = max(self.at(opens_at.date(), d.remind_at), opens_at)
            when = _move_out_of_quiet(when, d.quiet_hours)
            if when > closes_at:
                continue
            out.setdefault(when, r.label)
        return tuple(sorted(((label, when) for when, label in out.items()), key=lambda x: x[1]))

    def _window(self, item: Duty | Task | HolidayCheck, kind: ItemKind, key: str, start: date,
                last_day: date, required: int, workdays_only: bool) -> Window:
        """The window of one period; `last_day` is the due day (the period's last day unless the
        frequency names a day: 每周五, 每月5日前)."""
        d = self.catalog.defaults
        due_time = getattr(item, "due_time", None) or d.due_time
        late = getattr(item, "late_days", None)
        due_day = self.calendar.last_workday_on_or_before(last_day, start) if workdays_only else last_day
        opens_at = self.at(start, time(0))
        due_at = self.at(due_day, due_time)
        closes_at = due_at + timedelta(days=d.late_days if late is None else late)
        rules = item.reminders if item.reminders is not None else d.reminders
        return Window(item.id, kind, item.title, item.kind, key, opens_at, due_at, closes_at, required,
                      self._reminders(rules, opens_at, due_at, closes_at))

    # -- windows per item ----------------------------------------------------------------------
    def duty_windows(self, duty: Duty, start: date, end: date) -> Iterator[Window]:
        if duty.frequency is None:
            return
        workdays = duty.workdays_only or self.catalog.defaults.workdays_only
        f = duty.frequency
        for period in frequency_periods(f, start, end, self.catalog.seasons, self.start_year):
            parts: list[Period] = period.split(f.at_least) if duty.spread else [period]
            required = 1 if duty.spread else f.at_least
            for p in parts:
                if p.end > start and p.start < end:
                    yield self._window(duty, "duty", p.key, p.start, p.due_day, required, workdays)

    def task_windows(self, task: Task, start: date, end: date) -> Iterator[Window]:
        opens = task.opens or date(task.due.year, 1, 1)
        if opens < end and task.due >= start:
            yield self._window(task, "task", task.id, opens, task.due, 1, False)

    def holiday_windows(self, check: HolidayCheck, start: date, end: date) -> Iterator[Window]:
        for year in range(start.year, end.year + 1):
            for name in check.holidays:
                for first_day in self.calendar.holiday_starts(name, year):
                    opens = first_day - timedelta(days=check.days_before)
                    last = self.calendar.last_workday_on_or_before(first_day - timedelta(days=1), opens)
                    if opens < end and last >= start:
                        # keyed by the holiday's year: 元旦 2019 starting 2018-12-30 is 2019-元旦
                        yield self._window(check, "holiday", f"{year}-{name}", opens, last, 1, False)

    def item_windows(self, item_id: str, start: date, end: date) -> list[Window]:
        c = self.catalog
        if item_id in c.duty_by_id:
            return list(self.duty_windows(c.duty_by_id[item_id], start, end))
        for task in c.tasks:
            if task.id == item_id:
                return list(self.task_windows(task, start, end))
        for check in c.holiday_checks:
            if check.id == item_id:
                return sorted(self.holiday_windows(check, start, end), key=lambda w: w.opens_at)
        raise KeyError(item_id)

    def items(self) -> list[Duty | Task | HolidayCheck]:
        """Every schedulable item, in catalogue order."""
        c = self.catalog
        return [d for d in c.duties if d.scheduled] + list(c.tasks) + list(c.holiday_checks)

    def windows(self, start: date, end: date) -> list[Window]:
        """All windows overlapping [start, end), sorted by opening time then duty id."""
        out: list[Window] = []
        for item in self.items():
            out.extend(self.item_windows(item.id, start, end))
        return sorted(out, key=lambda w: (w.opens_at, w.duty_id))

    def expand(self, start: date, end: date, person: str | None = None) -> Iterator[InstanceSpec]:
        """Duty instances (window × person) for [start, end), optionally for one person (id or name)."""
        who_of = {item.id: item.who for item in self.items()}
        # Each window is computed once and crossed with its members; per instance only the term
        # check remains, and only for people whose term is limited.
        for w in self.windows(start, end):
            members = self.members(who_of[w.duty_id])
            if person:
                members = [p for p in members if person in (p.id, p.name)]
            first, after = w.opens_at.date(), w.due_at.date() + timedelta(days=1)
            for p in members:
                if (p.term_from is None and p.term_to is None) or p.serves_on(first, after):
                    yield InstanceSpec(w, p)
