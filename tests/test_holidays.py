"""Working days and official holidays: chinese-calendar, a year it does not know, and overrides."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from bot.cli import main
from schedules import Schedule, load_catalog_text
from schedules.catalog import HolidaySpan
from schedules.holidays import HOLIDAY_NAMES, Calendar

ALL_HOLIDAYS = ["元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"]
LIBRARY_NAMES = {"元旦": "New Year's Day", "春节": "Spring Festival", "清明节": "Tomb-sweeping Day",
                 "劳动节": "Labour Day", "端午节": "Dragon Boat Festival", "中秋节": "Mid-autumn Festival",
                 "国庆节": "National Day"}

HEAD = """\
roles: {部门负责人: 部门负责人}
people: [{name: 甲, roles: [部门负责人]}]
holiday_checks:
  - id: hc
    title: 节前检查
    holidays: [元旦, 春节, 清明, 五一, 端午, 中秋, 十一]
    days_before: 7
    who: [部门负责人]
duties:
  - {id: xun, title: 旬报, kind: report, who: [部门负责人], frequency: 每旬1次, workdays_only: true}
"""


def first_days(year: int) -> dict[str, date]:
    """The first official day off of each holiday of `year`, straight from chinese-calendar.

    A holiday belongs to the year of its last day (元旦 2019 began 2018-12-30); its named days
    are grouped into one holiday as long as no working day comes between them.
    """
    blocks: dict[str, list[list[date]]] = {}
    day, stop = date(year - 1, 12, 1), date(year + 1, 1, 31)
    while day < stop:
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            on_holiday, name = False, None
        for canonical, library in LIBRARY_NAMES.items():
            if on_holiday and name == library:
                runs = blocks.setdefault(canonical, [])
                if runs and all(not chinese_calendar.is_workday(runs[-1][-1] + timedelta(days=i))
                                for i in range(1, (day - runs[-1][-1]).days)):
                    runs[-1].append(day)
                else:
                    runs.append([day])
        day += timedelta(days=1)
    return {name: run[0] for name, runs in blocks.items() for run in runs if run[-1].year == year}


def last_workday_before(day: date) -> date:
    d = day - timedelta(days=1)
    while not chinese_calendar.is_workday(d):
        d -= timedelta(days=1)
    return d


def test_2026_holidays_from_chinese_calendar():
    assert first_days(2026) == {
        "元旦": date(2026, 1, 1), "春节": date(2026, 2, 15), "清明节": date(2026, 4, 4), "劳动节": date(2026, 5, 1),
        "端午节": date(2026, 6, 19), "中秋节": date(2026, 9, 25), "国庆节": date(2026, 10, 1),
    }
    cal = Calendar()
    for name, first in first_days(2026).items():
        assert cal.holiday_starts(name, 2026) == [first]


def test_calendar_agrees_with_chinese_calendar_day_by_day():
    cal = Calendar()
    day = date(2025, 1, 1)
    while day < date(2027, 1, 1):
        assert cal.is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)
    # 调休: Saturdays and Sundays worked in 2026
    assert [d for d in (date(2026, 1, 1) + timedelta(days=i) for i in range(365))
            if d.weekday() >= 5 and cal.is_workday(d)] == [
        date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10)]


@pytest.mark.parametrize("year", range(2005, 2027))
def test_holiday_checks_are_due_on_the_last_working_day_before(year):
    schedule = Schedule(load_catalog_text(HEAD))
    windows = schedule.item_windows("hc", date(year - 1, 12, 1), date(year, 12, 31))
    windows = [w for w in windows if w.period_key.startswith(f"{year}-")]
    expected = first_days(year)
    assert sorted(w.period_key for w in windows) == sorted(f"{year}-{n}" for n in expected)  # one each
    for w in windows:
        first = expected[w.period_key.split("-", 1)[1]]
        assert w.opens_at.date() == first - timedelta(days=7)
        assert w.due_at.date() == last_workday_before(first), (year, w.period_key)


def test_period_keys_of_holiday_checks_are_unique():
    """One instance per holiday: chinese-calendar leaves some weekend days of a holiday unnamed
    (端午 2011), puts 中秋 inside 国庆 (2025) and starts 元旦 2019 in December 2018."""
    schedule = Schedule(load_catalog_text(HEAD))
    keys = [w.period_key for w in schedule.item_windows("hc", date(2005, 1, 1), date(2027, 1, 1))]
    assert len(keys) == len(set(keys))
    by_key = {w.period_key: w for w in schedule.item_windows("hc", date(2005, 1, 1), date(2027, 1, 1))}
    assert (by_key["2011-端午节"].opens_at.date(), by_key["2011-端午节"].due_at.date()) == (date(2011, 5, 28), date(2011, 6, 3))
    assert (by_key["2019-元旦"].opens_at.date(), by_key["2019-元旦"].due_at.date()) == (date(2018, 12, 23), date(2018, 12, 29))
    assert by_key["2018-元旦"].due_at.date() == date(2017, 12, 29)
    assert (by_key["2025-国庆节"].opens_at.date(), by_key["2025-国庆节"].due_at.date()) == (date(2025, 9, 24), date(2025, 9, 30))
    assert by_key["2025-中秋节"].due_at.date() == date(2025, 9, 30)


def test_aliases_are_canonical():
    catalog = load_catalog_text(HEAD)
    assert catalog.holiday_checks[0].holidays == tuple(ALL_HOLIDAYS)
    assert {HOLIDAY_NAMES[a] for a in ("五一", "十一", "清明", "端午", "中秋")} == {
        "劳动节", "国庆节", "清明节", "端午节", "中秋节"}


def test_a_year_without_data_does_not_crash_and_warns():
    with pytest.raises(NotImplementedError):  # the premise: chinese-calendar does not know 2027
        chinese_calendar.is_workday(date(2027, 6, 1))
    schedule = Schedule(load_catalog_text(HEAD))
    windows = schedule.item_windows("hc", date(2027, 1, 1), date(2028, 1, 1))
    # only the fixed-date holidays stand in
    assert [(w.period_key, w.opens_at.date(), w.due_at.date()) for w in windows] == [
        ("2027-劳动节", date(2027, 4, 24), date(2027, 4, 30)),
        ("2027-国庆节", date(2027, 9, 24), date(2027, 9, 30)),
        ("2028-元旦", date(2027, 12, 25), date(2027, 12, 31)),
    ]
    assert any("2027" in w for w in schedule.calendar.warnings)
    assert len([w for w in schedule.calendar.warnings if "2027" in w]) == 1  # once per year
    cal = schedule.calendar
    assert not cal.is_workday(date(2027, 10, 1))  # fixed date
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 10, 4))  # a Monday: without data only weekends and fixed dates
    assert not cal.is_workday(date(2027, 10, 2))  # Saturday
    # the whole year expands
    instances = list(schedule.expand(date(2027, 1, 1), date(2028, 1, 1)))
    assert len([i for i in instances if i.window.duty_id == "xun"]) == 36


def test_check_warns_for_a_year_without_data(tmp_path, capsys):
    path = tmp_path / "duties.yaml"
    path.write_text(HEAD, encoding="utf-8")
    assert main(["check", str(path), "--year", "2027"]) == 0
    out, err = capsys.readouterr()
    assert "OK" in out and "Traceback" not in err
    assert "2027" in err and "warning" in err


OVERRIDE = HEAD + """\
# 2027: invented dates in the shape of a State Council notice
holidays:
  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
  - {name: 春节, from: 2027-02-07, to: 2027-02-13}
  - {name: 清明, from: 2027-04-03, to: 2027-04-05}
  - {name: 五一, from: 2027-05-01, to: 2027-05-05}
  - {name: 端午节, from: 2027-06-09, to: 2027-06-11}
  - {name: 中秋节, from: 2027-09-15, to: 2027-09-17}
  - {name: 国庆节, from: 2027-10-01, to: 2027-10-07}
extra_workdays: [2027-02-06, 2027-02-20, 2027-09-26, 2027-10-09]
"""


def test_holidays_override_for_2027():
    catalog = load_catalog_text(OVERRIDE)
    schedule = Schedule(catalog)
    cal = schedule.calendar
    assert not cal.is_workday(date(2027, 2, 8))  # a Monday of 春节
    assert cal.is_workday(date(2027, 2, 6))  # 调休 Saturday
    assert cal.is_workday(date(2027, 2, 15))
    assert not cal.is_workday(date(2027, 2, 14))  # an ordinary Sunday
    assert cal.holiday_starts("春节", 2027) == [date(2027, 2, 7)]

    windows = {w.period_key: w for w in schedule.item_windows("hc", date(2027, 1, 1), date(2027, 12, 31))}
    spring = windows["2027-春节"]
    assert spring.opens_at.isoformat() == "2027-01-31T00:00:00+08:00"
    assert spring.due_at.isoformat() == "2027-02-06T18:00:00+08:00"  # the 调休 Saturday before 春节
    assert windows["2027-清明节"].due_at.date() == date(2027, 4, 2)
    assert windows["2027-国庆节"].due_at.date() == date(2027, 9, 30)
    assert sorted(windows) == sorted(f"2027-{n}" for n in ALL_HOLIDAYS if n != "元旦")  # 元旦 2027 opens in 2026

    # workdays_only duties honour the override and the 调休 days too
    xun = {w.period_key: w.due_at.date() for w in schedule.item_windows("xun", date(2027, 2, 1), date(2027, 3, 1))}
    assert xun == {"2027-02-1": date(2027, 2, 6), "2027-02-2": date(2027, 2, 20), "2027-02-3": date(2027, 2, 26)}
    assert cal.warnings == []


def test_override_file_through_the_cli(tmp_path, capsys):
    path = tmp_path / "duties.yaml"
    path.write_text(OVERRIDE, encoding="utf-8")
    assert main(["--duties", str(path), "schedule", "--from", "2027-01-31", "--to", "2027-02-06",
                 "--format", "json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    assert {(r["duty"], r["period"], r["due_at"]) for r in rows if r["duty"] == "hc"} == {
        ("hc", "2027-春节", "2027-02-06T18:00:00+08:00")}


def test_a_partial_override_warns_about_the_holidays_it_leaves_out():
    cal = Calendar([HolidaySpan("春节", date(2027, 2, 6), date(2027, 2, 12))])
    assert cal.holiday_starts("春节", 2027) == [date(2027, 2, 6)]
    assert cal.holiday_starts("国庆节", 2027) == []
    assert any("没有国庆节" in w for w in cal.warnings)
    cal.holiday_starts("国庆节", 2027)
    assert sum("没有国庆节" in w for w in cal.warnings) == 1  # once, not per lookup


SCHOOL = """\
roles: {分管安全副校长: 分管安全副校长}
people: [{name: 乙, roles: [分管安全副校长]}]
holidays:
  - {name: 寒假, from: 2026-01-24, to: 2026-02-28}
  - {name: 暑假, from: 2026-07-11, to: 2026-08-31}
holiday_checks:
  - {id: breaks, title: 寒暑假放假前隐患大排查, holidays: [寒假, 暑假], days_before: 7, who: [分管安全副校长]}
duties:
  - {id: month, title: 月度检查, kind: inspection, who: [分管安全副校长], frequency: 每月1次, workdays_only: true}
"""


def test_school_breaks_come_from_holidays_and_are_not_days_off():
    schedule = Schedule(load_catalog_text(SCHOOL))
    windows = {w.period_key: w for w in schedule.item_windows("breaks", date(2026, 1, 1), date(2026, 12, 31))}
    assert sorted(windows) == ["2026-寒假", "2026-暑假"]
    assert windows["2026-寒假"].due_at.date() == date(2026, 1, 23)  # the Friday before the break
    assert windows["2026-暑假"].due_at.date() == date(2026, 7, 10)
    cal = schedule.calendar
    assert cal.is_workday(date(2026, 7, 13)) and cal.is_workday(date(2026, 2, 2))  # the office still works
    # a break written for 2026 is not 2026's official holiday data: 春节 still comes from chinese-calendar
    assert cal.holiday_starts("春节", 2026) == [date(2026, 2, 15)]
    assert cal.warnings == []


def test_a_break_without_dates_warns_once_and_schedules_nothing():
    cal = Calendar()
    assert cal.holiday_starts("寒假", 2027) == [] and cal.holiday_starts("寒假", 2027) == []
    assert sum("没有 2027 年的寒假日期" in w for w in cal.warnings) == 1
