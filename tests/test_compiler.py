"""Catalogue → scheduler job specs, and their fire times."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from schedules import Schedule, compile_jobs, load_catalog_text, next_fire_time
from schedules.catalog import Person

TZ = ZoneInfo("Asia/Shanghai")


def generated(catalog, n: int):
    """The catalogue with n people, their roles cycled through the example's."""
    park = catalog.people
    people = [dataclasses.replace(park[i % len(park)], id=f"p{i:05d}", name=f"人员{i:05d}", deputy=None,
                                  superior=None, telegram_id=None) for i in range(n)]
    return dataclasses.replace(catalog, people=tuple(people))


def expected_ids(catalog) -> set[str]:
    items = [d for d in catalog.duties if d.scheduled] + list(catalog.tasks) + list(catalog.holiday_checks)
    out = set()
    for item in items:
        rules = item.reminders if item.reminders is not None else catalog.defaults.reminders
        out |= {f"{item.id}:open", f"{item.id}:close"} | {f"{item.id}:remind:{r.label}" for r in rules}
    return out


def test_one_job_per_item_and_action(catalog):
    jobs = compile_jobs(catalog)
    ids = [j.id for j in jobs]
    assert len(ids) == len(set(ids))
    assert set(ids) == expected_ids(catalog)
    # 10 scheduled duties + 23 tasks + 1 holiday check, each: open, 6 reminders, close
    assert len(jobs) == 34 * 8 == 272
    for j in jobs:
        assert j.id.startswith(f"{j.duty_id}:{j.action}")
        assert j.action in ("open", "remind", "close")
        assert (j.action == "remind") == bool(j.label)
    assert {j.duty_id for j in jobs}.isdisjoint({d.id for d in catalog.duties if not d.scheduled})


def test_ids_are_stable(catalog):
    again = load_catalog_text(Path(catalog.path).read_text(encoding="utf-8"), catalog.path)
    assert compile_jobs(again) == compile_jobs(catalog)
    # people do not change the jobs, not even their order or number
    reordered = dataclasses.replace(catalog, people=tuple(reversed(catalog.people)))
    assert compile_jobs(reordered) == compile_jobs(catalog)


def test_job_count_is_independent_of_people(catalog):
    small, big = generated(catalog, 100), generated(catalog, 10_000)
    assert len(big.people) == 10_000
    assert compile_jobs(small) == compile_jobs(big) == compile_jobs(catalog)
    # while the instances do grow with the people
    year = (date(2026, 1, 1), date(2027, 1, 1))
    n_small = sum(1 for _ in Schedule(small).expand(*year))
    n_big = sum(1 for _ in Schedule(big).expand(*year))
    assert n_big > 90 * n_small


def test_per_duty_reminders_get_their_own_jobs():
    catalog = load_catalog_text(
        "roles: {r: r}\npeople: [{name: 甲, roles: [r]}]\n"
        "duties:\n"
        "  - {id: a, title: t, who: [r], frequency: 每月1次, reminders: [open, -2h]}\n"
        "  - {id: b, title: t, who: [r], frequency: 每月1次}\n"
        "  - {id: c, title: t, who: [r]}\n"  # no frequency: no jobs
    )
    ids = [j.id for j in compile_jobs(catalog)]
    assert ids[:4] == ["a:open", "a:remind:open", "a:remind:-2h", "a:close"]
    assert not [i for i in ids if i.startswith("c:")]
    assert len(ids) == 4 + 8


def fire_times(schedule, spec, start: datetime, end: datetime) -> list[datetime]:
    """Walk next_fire_time from start to end."""
    out, t = [], start
    for _ in range(1000):  # a bound, so a fire time that does not advance fails instead of hanging
        nxt = next_fire_time(schedule, spec, t)
        if nxt is None or nxt > end:
            return out
        assert nxt > t, (spec.id, t, nxt)
        out.append(nxt)
        t = nxt
    raise AssertionError(f"{spec.id}: more than 1000 fire times")


def window_times(schedule, spec, start: datetime, end: datetime) -> list[datetime]:
    windows = schedule.item_windows(spec.duty_id, start.date() - timedelta(days=400), end.date() + timedelta(days=1))
    if spec.action == "open":
        times = [w.opens_at for w in windows]
    elif spec.action == "close":
        times = [w.closes_at for w in windows]
    else:
        times = [when for w in windows for label, when in w.reminders if label == spec.label]
    return sorted(t for t in times if start < t <= end)


@pytest.mark.parametrize("item", ["main-06b", "main-06a", "main-02c", "charge-02", "holiday-check", "key-06a"])
def test_next_fire_time_walks_the_windows(catalog, item):
    schedule = Schedule(catalog)
    start, end = datetime(2025, 12, 20, tzinfo=TZ), datetime(2027, 1, 10, tzinfo=TZ)
    specs = [j for j in compile_jobs(catalog) if j.duty_id == item]
    assert len(specs) == 8
    for spec in specs:
        walked = fire_times(schedule, spec, start, end)
        assert walked == window_times(schedule, spec, start, end), spec.id
        assert all(a < b for a, b in zip(walked, walked[1:], strict=False))  # strictly increasing


def test_next_fire_time_examples(catalog):
    schedule = Schedule(catalog)
    jobs = {j.id: j for j in compile_jobs(catalog)}
    at = datetime(2026, 3, 15, 12, 0, tzinfo=TZ)
    assert next_fire_time(schedule, jobs["main-06b:open"], at) == datetime(2026, 4, 1, tzinfo=TZ)
    assert next_fire_time(schedule, jobs["main-06b:remind:-3d"], at) == datetime(2026, 3, 28, 9, 0, tzinfo=TZ)
    assert next_fire_time(schedule, jobs["main-06b:close"], at) == datetime(2026, 3, 31, 18, 0, tzinfo=TZ) + timedelta(days=3)
    # a month's close (03-03 18:00, February + 3 late days) is still ahead on 03-01
    assert next_fire_time(schedule, jobs["main-06b:close"], datetime(2026, 3, 1, tzinfo=TZ)) == datetime(
        2026, 3, 3, 18, 0, tzinfo=TZ)
    # strictly after: asking at a fire time gives the next one
    t = datetime(2026, 4, 1, tzinfo=TZ)
    assert next_fire_time(schedule, jobs["main-06b:open"], t) == datetime(2026, 5, 1, tzinfo=TZ)
    assert next_fire_time(schedule, jobs["main-06b:open"], t - timedelta(microseconds=1)) == t
    # any timezone in, the same instant out
    utc = t.astimezone(UTC) - timedelta(seconds=1)
    assert next_fire_time(schedule, jobs["main-06b:open"], utc) == t
    # the yearly report: once a year
    assert next_fire_time(schedule, jobs["main-02c:remind:-7d"], at) == datetime(2026, 12, 24, 9, 0, tzinfo=TZ)


def test_monotone_in_after(catalog):
    schedule = Schedule(catalog)
    spec = next(j for j in compile_jobs(catalog) if j.id == "other-04:remind:-1d")
    t0 = datetime(2026, 1, 1, tzinfo=TZ)
    previous = None
    for hours in range(0, 24 * 120, 7):
        after = t0 + timedelta(hours=hours)
        nxt = next_fire_time(schedule, spec, after)
        assert nxt > after
        if previous is not None:
            assert nxt >= previous
        previous = nxt


def test_one_off_task_ends(catalog):
    schedule = Schedule(catalog)
    jobs = {j.id: j for j in compile_jobs(catalog) if j.duty_id == "key-06a"}
    due = datetime(2026, 3, 31, 18, 0, tzinfo=TZ)
    close = due + timedelta(days=3)
    assert next_fire_time(schedule, jobs["key-06a:close"], due) == close
    assert next_fire_time(schedule, jobs["key-06a:close"], close - timedelta(seconds=1)) == close
    for spec in jobs.values():
        assert next_fire_time(schedule, spec, close) is None, spec.id
        assert next_fire_time(schedule, spec, datetime(2027, 6, 1, tzinfo=TZ)) is None
    assert next_fire_time(schedule, jobs["key-06a:open"], datetime(2025, 12, 31, tzinfo=TZ)) == datetime(
        2026, 1, 1, tzinfo=TZ)
    assert next_fire_time(schedule, jobs["key-06a:remind:+1d"], due) == datetime(2026, 4, 1, 9, 0, tzinfo=TZ)


def test_generated_people_do_not_change_fire_times(catalog):
    big = generated(catalog, 1000)
    a, b = Schedule(catalog), Schedule(big)
    at = datetime(2026, 6, 10, tzinfo=TZ)
    for spec in compile_jobs(catalog):
        assert next_fire_time(a, spec, at) == next_fire_time(b, spec, at)


def test_person_dataclass_is_what_generated_uses():
    # the helper above relies on Person being a dataclass with these fields
    assert {f.name for f in dataclasses.fields(Person)} >= {"id", "name", "deputy", "superior", "telegram_id"}
