"""Golden calendar: seed 004 (the park's leader lists and 2022 key-work list) scheduled for 2026.

Expected figures are counted from the seed's clauses, not from the program's output:
主要负责人 (二) 每季度听1次汇报、研究1次, 每年向区政府汇报1次; (六) 每季度1次安委会, 每月至少1次检查;
分管负责人 2. 每月至少1次研究分析, (六) 每月至少带队检查1次; 其他负责人 (一) 每季度汇报1次,
(四) 每月至少研究分析1次, (七) 每月至少带队检查1次; 重点工作清单 with their 责任领导; seed 002's
重点时段检查 for the 部门负责人 before 元旦、春节、清明、五一、十一.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from bot.cli import main
from schedules import Schedule, load_catalog

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "duties.yaml"
KEYS = {"person", "duty", "title", "period", "opens_at", "due_at", "required", "reminders"}

MAIN, CHARGE = "张建国", "李卫东"
OTHERS = ["王海涛", "赵明", "刘强", "陈峰"]
DEPARTMENT_HEADS = ["孙丽", "林芳", "吴刚", "郑洁", "冯涛", "何静", "马超"]
MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]
QUARTERS = ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
# 重点工作清单: the 责任领导 of each item (肖培明→张建国, 罗军→李卫东, 陈煦龙→王海涛, 樊统禄→赵明,
# 李德重→刘强, 丁荣华→陈峰)
FIVE = {"王海涛", "赵明", "李卫东", "刘强", "陈峰"}
TASKS = {
    "key-01": FIVE, "key-02": {MAIN, CHARGE}, "key-03": FIVE, "key-04": {MAIN, "王海涛", CHARGE, "刘强", "陈峰"},
    "key-05": {"王海涛", CHARGE, "刘强", "陈峰"}, "key-06": {CHARGE, "刘强"}, "key-06a": {CHARGE, "刘强"},
    "key-06b": {CHARGE, "刘强"},
    "key-06c": {CHARGE, "刘强"}, "key-13": {MAIN, CHARGE}, "key-15": FIVE, "key-16": {MAIN, CHARGE, "陈峰"},
    **{f"key-{n:02d}": {CHARGE} for n in (7, 8, 9, 10, 11, 12, 14, 17, 18, 19, 20)},
}
TASK_DUE = {**{t: "2026-12-31" for t in TASKS}, "key-06a": "2026-03-31", "key-06b": "2026-09-30"}
UNSCHEDULED = ["main-01", "main-03", "main-04", "main-05", "main-07", "charge-01", "charge-03", "charge-04",
               "charge-05", "other-02", "other-03", "other-05", "other-06"]


def expected_counts() -> Counter:
    c = Counter({(MAIN, "main-06b"): 12, (MAIN, "main-06a"): 4, (MAIN, "main-02a"): 4, (MAIN, "main-02b"): 4,
                 (MAIN, "main-02c"): 1, (CHARGE, "charge-02"): 12, (CHARGE, "charge-06"): 12})
    for p in OTHERS:
        c[(p, "other-01")], c[(p, "other-04")], c[(p, "other-07")] = 4, 12, 12
    for task, people in TASKS.items():
        for p in people:
            c[(p, task)] = 1
    for p in DEPARTMENT_HEADS:
        c[(p, "holiday-check")] = 5  # 春节 清明 五一 十一 of 2026, and 元旦 2027 (its check is in late December)
    return c


def dutybot(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("dutybot")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot"]
    return subprocess.run([*cmd, *args], capture_output=True, cwd=cwd, timeout=120)


@pytest.fixture(scope="module")
def rows(tmp_path_factory) -> list[dict]:
    """`dutybot schedule` for the whole year, as a real process (run from elsewhere: --duties counts)."""
    done = dutybot("--duties", str(EXAMPLE), "schedule", "--from", "2026-01-01", "--to", "2026-12-31",
                   "--format", "json", cwd=tmp_path_factory.mktemp("cwd"))
    assert done.returncode == 0, done.stderr.decode()
    assert b"Traceback" not in done.stderr
    return json.loads(done.stdout)


def pick(rows, person, duty):
    return [r for r in rows if r["person"] == person and r["duty"] == duty]


def test_json_keys_and_types(rows):
    assert rows
    for r in rows:
        assert set(r) == KEYS
        assert isinstance(r["required"], int) and isinstance(r["reminders"], list)
        for t in [r["opens_at"], r["due_at"], *r["reminders"]]:
            assert t.endswith("+08:00") and len(t) == 25, t


def test_counts_per_person_and_duty(rows):
    got = Counter((r["person"], r["duty"]) for r in rows)
    assert got == expected_counts()
    assert len(rows) == 246


def test_main_leader(rows):
    assert [r["period"] for r in pick(rows, MAIN, "main-06b")] == MONTHS
    for duty in ("main-06a", "main-02a", "main-02b"):
        assert [r["period"] for r in pick(rows, MAIN, duty)] == QUARTERS
    (report,) = pick(rows, MAIN, "main-02c")
    assert (report["period"], report["opens_at"], report["due_at"]) == (
        "2026", "2026-01-01T00:00:00+08:00", "2026-12-31T18:00:00+08:00")
    assert report["title"] == "向区政府汇报安全生产工作情况" and report["required"] == 1
    q1 = pick(rows, MAIN, "main-06a")[0]
    assert (q1["opens_at"], q1["due_at"]) == ("2026-01-01T00:00:00+08:00", "2026-03-31T18:00:00+08:00")
    feb = pick(rows, MAIN, "main-06b")[1]
    assert (feb["period"], feb["opens_at"], feb["due_at"], feb["required"]) == (
        "2026-02", "2026-02-01T00:00:00+08:00", "2026-02-28T18:00:00+08:00", 1)
    assert feb["reminders"] == [
        "2026-02-01T09:00:00+08:00",  # open
        "2026-02-21T09:00:00+08:00",  # -7d
        "2026-02-25T09:00:00+08:00",  # -3d
        "2026-02-27T09:00:00+08:00",  # -1d
        "2026-02-28T09:00:00+08:00",  # the due morning
        "2026-03-01T09:00:00+08:00",  # +1d, overdue
    ]


def test_leader_in_charge(rows):
    for duty in ("charge-02", "charge-06"):
        got = pick(rows, CHARGE, duty)
        assert [r["period"] for r in got] == MONTHS
        assert [r["due_at"][:10] for r in got] == [
            (date(2026, m % 12 + 1, 1) - timedelta(days=1) if m < 12 else date(2026, 12, 31)).isoformat()
            for m in range(1, 13)]
        assert all(r["required"] == 1 for r in got)


def test_other_leaders(rows):
    for p in OTHERS:
        assert [r["period"] for r in pick(rows, p, "other-01")] == QUARTERS
        assert [r["period"] for r in pick(rows, p, "other-04")] == MONTHS
        assert [r["period"] for r in pick(rows, p, "other-07")] == MONTHS


def test_key_work_tasks(rows):
    for task, people in TASKS.items():
        got = [r for r in rows if r["duty"] == task]
        assert {r["person"] for r in got} == people, task
        for r in got:
            assert r["period"] == task
            assert r["opens_at"] == "2026-01-01T00:00:00+08:00"
            assert r["due_at"] == f"{TASK_DUE[task]}T18:00:00+08:00"
            assert r["required"] == 1
    (a,) = pick(rows, "刘强", "key-06a")
    assert a["title"] == "推动企业落实“一线责任制”（3月底前）"
    assert a["reminders"][-3:] == ["2026-03-30T09:00:00+08:00", "2026-03-31T09:00:00+08:00",
                                   "2026-04-01T09:00:00+08:00"]


def last_workday_before(day: date) -> date:
    d = day - timedelta(days=1)
    while not chinese_calendar.is_workday(d):
        d -= timedelta(days=1)
    return d


# The first day off of each holiday in 2026, as the State Council's notice has it (checked below
# against chinese-calendar), and the due day of its check: the last working day before it.
HOLIDAYS_2026 = {
    "元旦": (date(2026, 1, 1), date(2025, 12, 31)),
    "春节": (date(2026, 2, 15), date(2026, 2, 14)),  # Saturday 2026-02-14 is a 调休 working day
    "清明节": (date(2026, 4, 4), date(2026, 4, 3)),
    "劳动节": (date(2026, 5, 1), date(2026, 4, 30)),
    "国庆节": (date(2026, 10, 1), date(2026, 9, 30)),
}


def test_holiday_dates_agree_with_chinese_calendar():
    names = {"元旦": "New Year's Day", "春节": "Spring Festival", "清明节": "Tomb-sweeping Day",
             "劳动节": "Labour Day", "国庆节": "National Day"}
    for name, (first, due) in HOLIDAYS_2026.items():
        assert chinese_calendar.get_holiday_detail(first) == (True, names[name])
        assert chinese_calendar.is_workday(first - timedelta(days=1)) or name == "元旦"
        assert last_workday_before(first) == due
    assert date(2026, 2, 14).weekday() == 5 and chinese_calendar.is_workday(date(2026, 2, 14))


def test_holiday_checks(rows):
    got = {r["period"]: r for r in pick(rows, "林芳", "holiday-check")}
    assert sorted(got) == sorted(["2026-春节", "2026-清明节", "2026-劳动节", "2026-国庆节", "2027-元旦"])
    for name, (first, due) in HOLIDAYS_2026.items():
        if name == "元旦":
            continue  # its check ran in December 2025; see below
        r = got[f"2026-{name}"]
        assert r["opens_at"] == f"{first - timedelta(days=7)}T00:00:00+08:00"
        assert r["due_at"] == f"{due}T18:00:00+08:00"
    spring = got["2026-春节"]
    assert (spring["opens_at"], spring["due_at"]) == ("2026-02-08T00:00:00+08:00", "2026-02-14T18:00:00+08:00")
    assert spring["reminders"] == [
        "2026-02-08T09:00:00+08:00",  # open (-7d would be before the window: merged into it)
        "2026-02-11T09:00:00+08:00",
        "2026-02-13T09:00:00+08:00",
        "2026-02-14T09:00:00+08:00",
        "2026-02-15T09:00:00+08:00",
    ]
    # 元旦 2027: chinese-calendar has no 2027 data; the fixed date stands in
    ny = got["2027-元旦"]
    assert (ny["opens_at"], ny["due_at"]) == ("2026-12-25T00:00:00+08:00", "2026-12-31T18:00:00+08:00")
    assert {r["person"] for r in rows if r["duty"] == "holiday-check"} == set(DEPARTMENT_HEADS)


def test_new_year_2026_check_in_december_2025():
    schedule = Schedule(load_catalog(EXAMPLE))
    got = [i for i in schedule.expand(date(2025, 12, 1), date(2026, 1, 1), person="林芳")
           if i.window.duty_id == "holiday-check"]
    assert [(i.window.period_key, i.window.opens_at.isoformat(), i.window.due_at.isoformat()) for i in got] == [
        ("2026-元旦", "2025-12-25T00:00:00+08:00", "2025-12-31T18:00:00+08:00")]


def test_unscheduled_clauses_have_no_instances_but_are_listed(rows, capsys):
    catalog = load_catalog(EXAMPLE)
    assert [d.id for d in catalog.duties if not d.scheduled] == UNSCHEDULED
    assert all(d.kind.value == "other" and d.source.clause for d in catalog.duties if not d.scheduled)
    assert not {r["duty"] for r in rows} & set(UNSCHEDULED)
    assert main(["check", str(EXAMPLE), "--year", "2026"]) == 0
    out = capsys.readouterr().out
    assert "无频次 unscheduled: 13" in out
    assert f"unscheduled clauses: {', '.join(UNSCHEDULED)}" in out


def test_direct_expansion_matches_the_command(rows):
    schedule = Schedule(load_catalog(EXAMPLE))
    instances = list(schedule.expand(date(2026, 1, 1), date(2027, 1, 1)))
    assert Counter((i.person.name, i.window.duty_id, i.window.period_key) for i in instances) == Counter(
        (r["person"], r["duty"], r["period"]) for r in rows)
    by_key = {(i.person.name, i.window.duty_id, i.window.period_key): i.window for i in instances}
    for r in rows:
        w = by_key[(r["person"], r["duty"], r["period"])]
        assert (w.opens_at.isoformat(), w.due_at.isoformat(), w.required) == (r["opens_at"], r["due_at"], r["required"])
        assert [t.isoformat() for _, t in w.reminders] == r["reminders"]
        assert w.closes_at == w.due_at + timedelta(days=3)  # late_days: 3
    mine = list(schedule.expand(date(2026, 1, 1), date(2027, 1, 1), person=MAIN))
    assert len(mine) == sum(n for (p, _), n in expected_counts().items() if p == MAIN) == 29
    assert {i.person.name for i in mine} == {MAIN}


def test_ics_has_one_event_per_instance(rows, tmp_path):
    from icalendar import Calendar

    done = dutybot("--duties", str(EXAMPLE), "schedule", "--from", "2026-01-01", "--to", "2026-12-31",
                   "--format", "ics", cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    cal = Calendar.from_ical(done.stdout)
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    assert len(events) == len(rows) == 246
    assert len({str(e["UID"]) for e in events}) == len(events)
    assert sorted(e.decoded("DTEND").isoformat() for e in events) == sorted(r["due_at"] for r in rows)
    alarms = sum(len([a for a in e.subcomponents if a.name == "VALARM"]) for e in events)
    assert alarms == sum(len(r["reminders"]) for r in rows)
