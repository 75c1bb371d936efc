"""Golden calendars of the periods issue 12 added, for 2026 and 2027 (and `dutybot schedule` for
2026–2028): counts, due dates and keys, read from the clauses as a person would, not from the output.

tests/fixtures/catalogs/new_periods.yaml writes each period as a list does and, where one exists, in its
structured form; both must give the same calendar. start_year is 2026; 汛期 is the default 05-01…09-30;
供暖期 is declared 11-15…03-15 (across New Year).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from schedules import Schedule, load_catalog

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "tests" / "fixtures" / "catalogs" / "new_periods.yaml"
TWINS = [("bimonthly", "bimonthly-s"), ("days", "days-s"), ("friday", "friday-s"), ("by-5th", "by-5th-s"),
         ("by-nov", "by-nov-s")]


@pytest.fixture(scope="module")
def schedule() -> Schedule:
    return Schedule(load_catalog(CATALOG))


def calendar(schedule: Schedule, duty: str, year: int) -> list[tuple[str, str, str]]:
    """(key, opens, due) of every window of `duty` due in `year`."""
    windows = schedule.item_windows(duty, date(year - 1, 12, 1), date(year + 1, 2, 1))
    return [(w.period_key, w.opens_at.date().isoformat(), w.due_at.date().isoformat()) for w in windows
            if w.due_at.year == year]


def month_end(year: int, month: int) -> str:
    import calendar as cal

    return date(year, month, cal.monthrange(year, month)[1]).isoformat()


@pytest.mark.parametrize("year", [2026, 2027])
def test_every_two_and_four_months_tile_the_year_from_january(schedule, year):
    assert calendar(schedule, "bimonthly", year) == [
        (f"{year}-B{i}", f"{year}-{2 * i - 1:02d}-01", month_end(year, 2 * i)) for i in range(1, 7)]
    assert calendar(schedule, "four-monthly", year) == [
        (f"{year}-T{i}", f"{year}-{4 * i - 3:02d}-01", month_end(year, 4 * i)) for i in range(1, 4)]


@pytest.mark.parametrize("year", [2026, 2027])
def test_half_months_are_the_first_fifteen_days_and_the_rest(schedule, year):
    got = calendar(schedule, "halfmonth", year)
    assert len(got) == 24
    assert got[:4] == [(f"{year}-01-H1", f"{year}-01-01", f"{year}-01-15"),
                       (f"{year}-01-H2", f"{year}-01-16", f"{year}-01-31"),
                       (f"{year}-02-H1", f"{year}-02-01", f"{year}-02-15"),
                       (f"{year}-02-H2", f"{year}-02-16", f"{year}-02-28")]


def test_every_n_years_is_due_in_the_anchor_year_and_every_n_after(schedule):
    # 至少每两年一次 from start_year 2026: 2026, 2028; every 3 years from 2025: 2028; every 5: 2026, 2031
    due = {d: [w.due_at.date().isoformat() for w in schedule.item_windows(d, date(2024, 1, 1), date(2032, 1, 1))]
           for d in ("biennial", "triennial", "five-yearly")}
    assert due == {"biennial": ["2024-12-31", "2026-12-31", "2028-12-31", "2030-12-31"],
                   "triennial": ["2025-12-31", "2028-12-31", "2031-12-31"],
                   "five-yearly": ["2026-12-31", "2031-12-31"]}
    assert calendar(schedule, "biennial", 2026) == [("2026", "2026-01-01", "2026-12-31")]
    assert calendar(schedule, "biennial", 2027) == []


@pytest.mark.parametrize("year", [2026, 2027])
def test_fixed_days_are_two_instances_a_month_each_due_on_its_day(schedule, year):
    got = calendar(schedule, "days", year)
    assert len(got) == 24
    assert got[:3] == [(f"{year}-01-10", f"{year - 1}-12-25", f"{year}-01-10"),
                       (f"{year}-01-24", f"{year}-01-11", f"{year}-01-24"),
                       (f"{year}-02-10", f"{year}-01-25", f"{year}-02-10")]


def test_every_friday_is_due_on_the_friday_of_each_week(schedule):
    got = calendar(schedule, "friday", 2026)
    assert len(got) == 52 and all(date.fromisoformat(due).weekday() == 4 for _, _, due in got)
    assert got[0] == ("2026-W01", "2025-12-29", "2026-01-02")
    assert calendar(schedule, "friday", 2027)[0] == ("2026-W53", "2026-12-28", "2027-01-01")


@pytest.mark.parametrize("year", [2026, 2027])
def test_due_by_a_day_keeps_the_period_and_moves_the_due_date(schedule, year):
    assert calendar(schedule, "by-5th", year) == [
        (f"{year}-{m:02d}", f"{year}-{m:02d}-01", f"{year}-{m:02d}-05") for m in range(1, 13)]
    assert calendar(schedule, "by-nov", year) == [(str(year), f"{year}-01-01", f"{year}-11-30")]


@pytest.mark.parametrize("year", [2026, 2027])
def test_named_halves(schedule, year):
    assert calendar(schedule, "first-half", year) == [(f"{year}-H1", f"{year}-01-01", f"{year}-06-30")]
    assert calendar(schedule, "second-half", year) == [(f"{year}-H2", f"{year}-07-01", f"{year}-12-31")]
    assert [k for k, _, _ in calendar(schedule, "both-halves", year)] == [f"{year}-H1", f"{year}-H2"]


@pytest.mark.parametrize("year", [2026, 2027])
def test_seasons_before_during_and_after(schedule, year):
    assert calendar(schedule, "pre-flood", year) == [(f"{year}-汛期前", f"{year}-01-01", f"{year}-04-30")]
    assert calendar(schedule, "flood", year) == [(f"{year}-汛期", f"{year}-05-01", f"{year}-09-30")]
    assert calendar(schedule, "post-flood", year) == [(f"{year}-汛期后", f"{year}-10-01", f"{year}-10-31")]
    # a season across New Year: before it is from the day after the last one ended
    assert calendar(schedule, "pre-heating", year) == [(f"{year}-供暖期前", f"{year}-03-16", f"{year}-11-14")]


@pytest.mark.parametrize("year", [2026, 2027])
def test_the_list_phrasings_and_the_structured_forms_give_one_calendar(schedule, year):
    for phrase, structured in TWINS:
        assert calendar(schedule, phrase, year) == calendar(schedule, structured, year)
    assert [k for k, _, _ in calendar(schedule, "monthly-words", year)] == [f"{year}-{m:02d}" for m in range(1, 13)]
    for duty, required in (("year-two", 2), ("whole-year", 4)):
        (w,) = schedule.item_windows(duty, date(year, 1, 1), date(year + 1, 1, 1))
        assert (w.period_key, w.required) == (str(year), required)


def dutybot(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("dutybot")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot"]
    return subprocess.run([*cmd, *args], capture_output=True, cwd=cwd, timeout=120)


def test_dutybot_schedule_2026_to_2028_puts_the_due_dates_where_the_clauses_say(tmp_path):
    done = dutybot("--duties", str(CATALOG), "schedule", "--from", "2026-01-01", "--to", "2028-12-31",
                   "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    rows = json.loads(done.stdout)

    def dues(duty: str) -> list[str]:
        return [r["due_at"][:10] for r in rows if r["duty"] == duty]

    assert dues("biennial") == ["2026-12-31", "2028-12-31"]
    assert dues("triennial") == ["2028-12-31"]
    assert dues("five-yearly") == ["2026-12-31"]
    assert dues("pre-flood") == ["2026-04-30", "2027-04-30", "2028-04-30"]
    assert dues("post-flood") == ["2026-10-31", "2027-10-31", "2028-10-31"]
    assert dues("by-nov") == ["2026-11-30", "2027-11-30", "2028-11-30"]
    assert len(dues("bimonthly")) == 18 and len(dues("halfmonth")) == 72
    assert dues("days")[-2:] == ["2028-12-24", "2029-01-10"]  # the window of 2029-01-10 opens 2028-12-25
    assert all(r["due_at"].endswith("T18:00:00+08:00") for r in rows)

    ics = dutybot("--duties", str(CATALOG), "schedule", "--from", "2026-01-01", "--to", "2028-12-31",
                  "--format", "ics", cwd=tmp_path)
    assert ics.returncode == 0, ics.stderr.decode()
    from icalendar import Calendar

    events = [e for e in Calendar.from_ical(ics.stdout).walk("VEVENT")]
    assert len(events) == len(rows)
    uids = {str(e["uid"]) for e in events}
    assert "biennial.2028.甲@dutybot" in uids and "pre-flood.2027-汛期前.甲@dutybot" in uids
    assert "bimonthly.2026-B3.甲@dutybot" in uids and "days.2026-03-24.甲@dutybot" in uids
