"""Property tests for periods and windows: tiling, keys, bounds, working days, quiet hours."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import chinese_calendar
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from schedules.catalog import (
    Catalog,
    Defaults,
    Duty,
    DutyKind,
    Frequency,
    PeriodKind,
    Person,
    QuietHours,
    Who,
)
from schedules.loader import SHORTEST_PERIOD_DAYS, parse_reminder
from schedules.periods import period_containing, periods_between
from schedules.windows import Schedule

KEY_FORMATS = {
    PeriodKind.DAY: r"\d{4}-\d{2}-\d{2}",
    PeriodKind.WEEK: r"\d{4}-W\d{2}",
    PeriodKind.XUN: r"\d{4}-\d{2}-[123]",
    PeriodKind.HALFMONTH: r"\d{4}-\d{2}-H[12]",
    PeriodKind.MONTH: r"\d{4}-\d{2}",
    PeriodKind.QUARTER: r"\d{4}-Q[1-4]",
    PeriodKind.HALF: r"\d{4}-H[12]",
    PeriodKind.YEAR: r"\d{4}",
}
# How long a range a property draws, per kind: enough periods to tile, few enough to stay fast.
SPAN = {PeriodKind.DAY: 60, PeriodKind.WEEK: 200, PeriodKind.XUN: 200, PeriodKind.HALFMONTH: 300, PeriodKind.MONTH: 500,
        PeriodKind.QUARTER: 900, PeriodKind.HALF: 1200, PeriodKind.YEAR: 1500}

kinds = st.sampled_from(list(PeriodKind))
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2098, 12, 31))
# chinese-calendar knows 2004-2026; working-day properties draw from there
known_days = st.dates(min_value=date(2005, 1, 1), max_value=date(2026, 10, 1))
LAST_KNOWN = date(2027, 1, 1)
clock = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))
REMINDER_LABELS = ["open", "-30d", "-7d", "-3d", "-1d", "0d", "+1d", "+2d", "-2h", "-12h", "+3h", "-0.5h"]


def expected_key(kind: PeriodKind, start: date) -> str:
    match kind:
        case PeriodKind.DAY:
            return start.isoformat()
        case PeriodKind.WEEK:
            iso = start.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        case PeriodKind.XUN:
            return f"{start:%Y-%m}-{(start.day - 1) // 10 + 1}"
        case PeriodKind.HALFMONTH:
            return f"{start:%Y-%m}-H{1 if start.day == 1 else 2}"
        case PeriodKind.MONTH:
            return f"{start:%Y-%m}"
        case PeriodKind.QUARTER:
            return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        case PeriodKind.HALF:
            return f"{start.year}-H{(start.month - 1) // 6 + 1}"
        case PeriodKind.YEAR:
            return str(start.year)


@given(kinds, days, st.integers(0, 1500))
def test_periods_tile_the_range(kind, start, length):
    length = min(length, SPAN[kind])
    end = start + timedelta(days=length)
    periods = list(periods_between(kind, start, end))
    if length == 0:
        assert periods == []
        return
    assert periods[0].start <= start < periods[0].end
    assert periods[-1].start < end <= periods[-1].end
    for a, b in zip(periods, periods[1:], strict=False):
        assert a.end == b.start  # contiguous, no overlap
    for p in periods:
        assert p.start < p.end and p.kind is kind
        assert re.fullmatch(KEY_FORMATS[kind], p.key), p.key
        assert p.key == expected_key(kind, p.start)
        assert p.last_day == p.end - timedelta(days=1)
    assert len({p.key for p in periods}) == len(periods)


@given(kinds, days)
def test_period_boundaries(kind, day):
    p = period_containing(kind, day)
    assert p.start <= day < p.end
    assert period_containing(kind, p.start) == p == period_containing(kind, p.last_day)
    assert period_containing(kind, p.end).start == p.end
    size = (p.end - p.start).days
    assert size >= SHORTEST_PERIOD_DAYS[kind]
    match kind:
        case PeriodKind.DAY:
            assert size == 1
        case PeriodKind.WEEK:
            assert size == 7 and p.start.weekday() == 0
        case PeriodKind.XUN:
            assert p.start.day in (1, 11, 21) and (p.end.day in (11, 21) or p.end.day == 1)
        case PeriodKind.HALFMONTH:
            assert p.start.day in (1, 16) and p.end.day in (16, 1)
        case PeriodKind.MONTH:
            assert p.start.day == 1 and p.end.day == 1
        case PeriodKind.QUARTER:
            assert p.start.day == 1 and p.start.month in (1, 4, 7, 10)
        case PeriodKind.HALF:
            assert p.start.day == 1 and p.start.month in (1, 7)
        case PeriodKind.YEAR:
            assert (p.start.month, p.start.day) == (1, 1)


@pytest.mark.parametrize(("day", "kind", "key"), [
    (date(2026, 3, 15), PeriodKind.MONTH, "2026-03"),
    (date(2026, 5, 1), PeriodKind.QUARTER, "2026-Q2"),
    (date(2026, 6, 30), PeriodKind.HALF, "2026-H1"),
    (date(2026, 7, 1), PeriodKind.HALF, "2026-H2"),
    (date(2026, 8, 8), PeriodKind.YEAR, "2026"),
    (date(2026, 2, 12), PeriodKind.WEEK, "2026-W07"),
    (date(2026, 3, 11), PeriodKind.XUN, "2026-03-2"),
    (date(2026, 2, 28), PeriodKind.XUN, "2026-02-3"),
    (date(2026, 3, 15), PeriodKind.DAY, "2026-03-15"),
    (date(2026, 3, 15), PeriodKind.HALFMONTH, "2026-03-H1"),
    (date(2026, 2, 16), PeriodKind.HALFMONTH, "2026-02-H2"),
    (date(2027, 1, 1), PeriodKind.WEEK, "2026-W53"),  # ISO week-year, not the calendar year
    (date(2024, 12, 30), PeriodKind.WEEK, "2025-W01"),
])
def test_documented_keys(day, kind, key):
    assert period_containing(kind, day).key == key


@given(kinds, days, st.data())
def test_spread_sub_windows_tile_their_period(kind, day, data):
    period = period_containing(kind, day)
    parts = data.draw(st.integers(2, SHORTEST_PERIOD_DAYS[kind]) if SHORTEST_PERIOD_DAYS[kind] >= 2 else st.just(1))
    subs = period.split(parts)
    assert len(subs) == parts
    assert subs[0].start == period.start and subs[-1].end == period.end
    for a, b in zip(subs, subs[1:], strict=False):
        assert a.end == b.start
    for i, s in enumerate(subs, 1):
        assert s.start < s.end  # none empty
        assert s.key == f"{period.key}#{i}"
    sizes = [(s.end - s.start).days for s in subs]
    assert max(sizes) - min(sizes) <= 1  # equal parts


# ---------------------------------------------------------------------------------------------
# Windows of a generated duty
# ---------------------------------------------------------------------------------------------
@st.composite
def duty_catalogs(draw, kinds=kinds):
    kind = draw(kinds)
    spread = draw(st.booleans()) and SHORTEST_PERIOD_DAYS[kind] >= 2
    at_least = draw(st.integers(2, min(SHORTEST_PERIOD_DAYS[kind], 12))) if spread else draw(st.integers(1, 5))
    quiet = draw(st.one_of(st.just(QuietHours()), st.builds(QuietHours, clock, clock)))
    labels = draw(st.lists(st.sampled_from(REMINDER_LABELS), unique=True, max_size=6))
    defaults = Defaults(
        remind_at=draw(clock), due_time=draw(st.builds(time, st.integers(0, 23), st.sampled_from([0, 30, 59]))),
        quiet_hours=quiet, reminders=tuple(parse_reminder(label) for label in labels),
        late_days=draw(st.integers(0, 5)),
    )
    duty = Duty(id="d", title="检查", kind=DutyKind.INSPECTION, who=Who(roles=("r",)),
                frequency=Frequency(kind, at_least), spread=spread, workdays_only=draw(st.booleans()))
    return Catalog(defaults=defaults, roles={"r": ""}, people=(Person("甲", "甲", "u", roles=("r",)),),
                   duties=(duty,))


def end_of(day: date, tz) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tz)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(duty_catalogs(), known_days, st.integers(1, 400))
def test_windows_lie_inside_their_periods_and_do_not_overlap(catalog, start, length):
    duty = catalog.duties[0]
    kind = duty.frequency.every
    end = min(start + timedelta(days=min(length, SPAN[kind])), LAST_KNOWN)
    schedule = Schedule(catalog)
    windows = schedule.item_windows("d", start, end)
    periods = list(periods_between(kind, start, end))
    parts = [s for p in periods for s in (p.split(duty.frequency.at_least) if duty.spread else [p])]
    parts = [p for p in parts if p.end > start and p.start < end]
    assume(all(p.end <= LAST_KNOWN for p in parts))  # chinese-calendar has no later data
    assert [w.period_key for w in windows] == [p.key for p in parts]
    quiet = catalog.defaults.quiet_hours
    for w, p in zip(windows, parts, strict=True):
        assert w.opens_at == datetime.combine(p.start, time(0), schedule.tz)  # opens at period start
        assert w.opens_at <= w.due_at < end_of(p.last_day, schedule.tz)
        assert w.due_at.time() == catalog.defaults.due_time
        assert w.closes_at == w.due_at + timedelta(days=catalog.defaults.late_days)
        assert w.required == (1 if duty.spread else duty.frequency.at_least)
        whens = [when for _, when in w.reminders]
        assert whens == sorted(whens) and len(set(whens)) == len(whens)
        for when in whens:
            assert w.opens_at <= when <= w.closes_at
            assert not quiet.contains(when.astimezone(schedule.tz).time()), (when, quiet)
        if duty.workdays_only:
            workdays = [d for d in (p.start + timedelta(days=i) for i in range((p.end - p.start).days))
                        if chinese_calendar.is_workday(d)]
            if workdays:
                # the last working day of the period, 调休 Saturdays and Sundays included
                assert w.due_at.date() == workdays[-1]
            else:
                assert w.due_at.date() == p.last_day
        else:
            assert w.due_at.date() == p.last_day
    for a, b in zip(windows, windows[1:], strict=False):
        assert a.due_at < b.opens_at  # consecutive instances of a duty don't overlap


@settings(max_examples=100)
@given(known_days, st.integers(20, 200))
def test_workdays_only_honours_tiaoxiu(start, length):
    """Monthly and 旬 due dates with workdays_only are chinese-calendar working days when one exists."""
    for kind in (PeriodKind.XUN, PeriodKind.MONTH, PeriodKind.WEEK):
        duty = Duty(id="d", title="t", kind=DutyKind.REPORT, who=Who(roles=("r",)), frequency=Frequency(kind, 1),
                    workdays_only=True)
        schedule = Schedule(Catalog(roles={"r": ""}, duties=(duty,)))
        for w in schedule.item_windows("d", start, min(start + timedelta(days=length), LAST_KNOWN)):
            due = w.due_at.date()
            period = period_containing(kind, due)
            if period.end > LAST_KNOWN:
                continue
            if any(chinese_calendar.is_workday(period.start + timedelta(days=i))
                   for i in range((period.end - period.start).days)):
                assert chinese_calendar.is_workday(due), (kind, w.period_key, due)
                assert all(not chinese_calendar.is_workday(d)
                           for d in (due + timedelta(days=i) for i in range(1, (period.end - due).days)))


def test_workdays_only_moves_due_to_a_tiaoxiu_saturday():
    # 2026-02-14 is a Saturday worked for the 春节 holiday; the week of 2026-02-09 ends on it.
    assert date(2026, 2, 14).weekday() == 5 and chinese_calendar.is_workday(date(2026, 2, 14))
    duty = Duty(id="d", title="t", kind=DutyKind.REPORT, who=Who(roles=("r",)),
                frequency=Frequency(PeriodKind.WEEK, 1), workdays_only=True)
    schedule = Schedule(Catalog(roles={"r": ""}, duties=(duty,)))
    (w,) = schedule.item_windows("d", date(2026, 2, 9), date(2026, 2, 10))
    assert w.period_key == "2026-W07" and w.due_at.date() == date(2026, 2, 14)
    # and a week that is all holiday keeps its last day
    (w,) = schedule.item_windows("d", date(2026, 2, 16), date(2026, 2, 17))
    assert w.period_key == "2026-W08" and w.due_at.date() == date(2026, 2, 22)
    # a month whose last day is a Saturday moves to the Friday before
    duty_m = Duty(id="m", title="t", kind=DutyKind.REPORT, who=Who(roles=("r",)),
                  frequency=Frequency(PeriodKind.MONTH, 1), workdays_only=True)
    (w,) = Schedule(Catalog(roles={"r": ""}, duties=(duty_m,))).item_windows("m", date(2026, 1, 1), date(2026, 1, 2))
    assert date(2026, 1, 31).weekday() == 5 and w.due_at.date() == date(2026, 1, 30)


def test_default_reminders_stay_out_of_quiet_hours_and_inside_the_window():
    """A 7-day window with the default -7d offset: the reminder goes out on the opening day at the
    remind time, not at midnight when the window opens."""
    from schedules import load_catalog_text

    catalog = load_catalog_text(
        "roles: {r: r}\npeople: [{name: 甲, roles: [r]}]\n"
        "duties: [{id: w, title: t, who: [r], frequency: 每周1次}]\n"
    )
    (w,) = Schedule(catalog).item_windows("w", date(2026, 3, 2), date(2026, 3, 3))
    assert [(label, when.isoformat()) for label, when in w.reminders] == [
        ("open", "2026-03-02T09:00:00+08:00"),  # -7d would be 2026-03-01, before the week: merged here
        ("-3d", "2026-03-05T09:00:00+08:00"),
        ("-1d", "2026-03-07T09:00:00+08:00"),
        ("0d", "2026-03-08T09:00:00+08:00"),
        ("+1d", "2026-03-09T09:00:00+08:00"),
    ]


@given(st.builds(QuietHours, clock, clock), st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)))
def test_move_out_of_quiet_hours(quiet, naive):
    from zoneinfo import ZoneInfo

    from schedules.windows import _move_out_of_quiet

    when = naive.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    moved = _move_out_of_quiet(when, quiet)
    assert moved >= when
    assert not quiet.contains(moved.time())
    if not quiet.contains(when.time()):
        assert moved == when
    else:
        assert moved.time() == quiet.end and moved - when <= timedelta(days=1)


def test_a_term_limits_the_instances():
    from schedules import load_catalog_text

    catalog = load_catalog_text(
        "roles: {r: r}\n"
        "people:\n  - {name: 甲, roles: [r], from: 2026-04-15, to: 2026-09-10}\n  - {name: 乙, roles: [r]}\n"
        "duties: [{id: m, title: t, who: [r], frequency: 每月1次}]\n"
    )
    instances = list(Schedule(catalog).expand(date(2026, 1, 1), date(2027, 1, 1)))
    assert [i.window.period_key for i in instances if i.person.name == "甲"] == [
        "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]  # every month the term touches
    assert len([i for i in instances if i.person.name == "乙"]) == 12
