"""Property tests for the refined periods (every 2/4 months, half-months, every n years, fixed days,
weekdays, due days, named halves, seasons): order, tiling, no overlap, keys, due days inside their
period, and windows whose reminders stay inside the window and outside quiet hours."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schedules.catalog import (
    DEFAULT_SEASONS,
    Catalog,
    Defaults,
    Duty,
    DutyKind,
    Frequency,
    PeriodKind,
    Person,
    QuietHours,
    Season,
    Who,
)
from schedules.frequency import parse_frequency, phrase_of
from schedules.loader import parse_reminder
from schedules.periods import frequency_periods
from schedules.windows import Schedule

SEASONS = {**DEFAULT_SEASONS, "供暖期": Season("供暖期", (11, 15), (3, 15)), "冬季": Season("冬季", (12, 1), (2, 29))}
days = st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31))
clock = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))
REMINDER_LABELS = ["open", "-30d", "-7d", "-3d", "-1d", "0d", "+1d", "+2d", "-2h", "-12h", "+3h"]

# Each refinement, with whether its periods tile time (no gaps) and the form of its keys.
tiling_rules = st.one_of(
    st.sampled_from([2, 4]).map(lambda n: Frequency(PeriodKind.MONTH, n=n)),
    st.just(Frequency(PeriodKind.HALFMONTH)),
    st.lists(st.integers(1, 31), min_size=1, max_size=4, unique=True).map(
        lambda d: Frequency(PeriodKind.MONTH, days=tuple(sorted(d)))),
    st.integers(0, 6).map(lambda d: Frequency(PeriodKind.WEEK, weekday=d)),
    st.integers(1, 31).map(lambda d: Frequency(PeriodKind.MONTH, due=(0, d))),
    st.tuples(st.integers(1, 12), st.integers(1, 28)).map(lambda md: Frequency(PeriodKind.YEAR, due=md)),
)
gap_rules = st.one_of(
    st.tuples(st.sampled_from([2, 3, 5]), st.integers(2000, 2040)).map(
        lambda na: Frequency(PeriodKind.YEAR, n=na[0], anchor=na[1])),
    st.sampled_from(["H1", "H2"]).map(lambda w: Frequency(PeriodKind.HALF, which=w)),
    st.tuples(st.sampled_from(sorted(SEASONS)), st.sampled_from(["before", "during", "after"])).map(
        lambda sw: Frequency(PeriodKind.YEAR, season=sw[0], when=sw[1])),
)
KEY = re.compile(r"\d{4}(?:-B[1-6]|-T[1-3]|-\d{2}-H[12]|-\d{2}-\d{2}|-W\d{2}|-\d{2}|-H[12]|-.+期[前后]?|-冬季[前后]?)?")


def periods(f: Frequency, start: date, length: int):
    return list(frequency_periods(f, start, start + timedelta(days=length), SEASONS, 2026))


@given(tiling_rules, days, st.integers(1, 800))
def test_tiling_periods_cover_the_range_without_gaps_or_overlap(f, start, length):
    got = periods(f, start, length)
    end = start + timedelta(days=length)
    assert got[0].start <= start < got[0].end and got[-1].start < end <= got[-1].end
    for a, b in zip(got, got[1:], strict=False):
        assert a.end == b.start
    for p in got:
        assert p.start < p.end and p.start <= p.due_day <= p.last_day
        assert KEY.fullmatch(p.key), p.key
    assert len({p.key for p in got}) == len(got)
    if f.days:  # each period ends on one of its days (or the month's last day for 29-31)
        assert all(p.due_day == p.last_day and (p.last_day.day in f.days or (p.last_day + timedelta(days=1)).day == 1)
                   for p in got)
    if f.weekday is not None:
        assert all(p.due_day.weekday() == f.weekday for p in got)


@given(gap_rules, days, st.integers(1, 3000))
def test_other_periods_are_in_order_without_overlap(f, start, length):
    got = periods(f, start, length)
    end = start + timedelta(days=length)
    for a, b in zip(got, got[1:], strict=False):
        assert a.end <= b.start
    for p in got:
        assert p.end > start and p.start < end and p.start < p.end
        assert p.start <= p.due_day <= p.last_day
        assert KEY.fullmatch(p.key), p.key
        if f.n > 1:
            assert (p.start.year - f.anchor) % f.n == 0 and p.key == str(p.start.year)
        if f.which:
            assert p.key.endswith(f.which)
        if f.when == "during":
            s = SEASONS[f.season]
            assert (p.start.month, p.start.day) == s.start or (s.start == (2, 29))
    assert len({p.key for p in got}) == len(got)


@st.composite
def refined_catalogs(draw):
    f = draw(st.one_of(tiling_rules, gap_rules))
    quiet = draw(st.one_of(st.just(QuietHours()), st.builds(QuietHours, clock, clock)))
    labels = draw(st.lists(st.sampled_from(REMINDER_LABELS), unique=True, max_size=6))
    defaults = Defaults(remind_at=draw(clock), due_time=draw(st.builds(time, st.integers(0, 23), st.just(0))),
                        quiet_hours=quiet, reminders=tuple(parse_reminder(label) for label in labels),
                        late_days=draw(st.integers(0, 3)))
    duty = Duty(id="d", title="检查", kind=DutyKind.INSPECTION, who=Who(roles=("r",)), frequency=f)
    return Catalog(defaults=defaults, roles={"r": ""}, people=(Person("甲", "甲", "u", roles=("r",)),),
                   duties=(duty,), seasons=SEASONS, start_year=2026)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(refined_catalogs(), st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)), st.integers(1, 800))
def test_windows_of_refined_periods_keep_reminders_inside_and_out_of_quiet_hours(catalog, start, length):
    schedule = Schedule(catalog)
    end = start + timedelta(days=length)
    windows = schedule.item_windows("d", start, end)
    f = catalog.duties[0].frequency
    assert [w.period_key for w in windows] == [p.key for p in frequency_periods(f, start, end, SEASONS, 2026)]
    quiet = catalog.defaults.quiet_hours
    for w in windows:
        assert w.opens_at <= w.due_at <= w.closes_at
        whens = [when for _, when in w.reminders]
        assert whens == sorted(whens)
        for when in whens:
            assert w.opens_at <= when <= w.closes_at
            assert not quiet.contains(when.astimezone(schedule.tz).time())
    for a, b in zip(windows, windows[1:], strict=False):
        assert a.due_at < b.opens_at  # consecutive instances of a duty don't overlap


@given(st.one_of(tiling_rules, gap_rules).filter(lambda f: f.season in (None, "汛期")), st.integers(1, 12),
       st.booleans())
def test_every_refined_frequency_has_a_phrase_that_parses_back(f, count, at_least):
    f = Frequency(**{**f.__dict__, "at_least": count})
    if f.n > 1:
        f = Frequency(**{**f.__dict__, "anchor": None})
    phrase = phrase_of(f, at_least)
    parsed = parse_frequency(phrase)
    assert parsed is not None, phrase
    assert Frequency(**{**parsed.__dict__, "phrase": ""}) == Frequency(**{**f.__dict__, "phrase": ""}), phrase


def test_a_window_due_inside_its_period_moves_to_a_working_day_with_workdays_only():
    duty = Duty(id="d", title="t", kind=DutyKind.REPORT, who=Who(roles=("r",)),
                frequency=Frequency(PeriodKind.MONTH, due=(0, 5)), workdays_only=True)
    (w,) = Schedule(Catalog(roles={"r": ""}, duties=(duty,))).item_windows("d", date(2026, 4, 1), date(2026, 4, 2))
    # 2026-04-05 is 清明 (a Sunday, holiday 04-04..04-06): due on the last working day before it
    assert w.due_at == datetime.combine(date(2026, 4, 3), time(18), w.due_at.tzinfo)
