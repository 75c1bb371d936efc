"""Who has reported: the status queries, completion rates, 一键催报 and `dutybot status`, against the
real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from conftest import EXAMPLE
from sqlmodel import select
from support.checkin_world import (
    LEADER,
    LEADER_TG,
    NOW,
    OFFICE,
    OFFICE_TG,
    OTHER,
    OTHER_TG,
    make_instance,
    outbox_rows,
)

from bot.cli import main
from bot.services import checkins, status
from bot.store.models import AuditLog, DutyInstance, Unit
from schedules import Schedule

pytest_plugins = ["support.checkin_fixtures"]

MONTH_END = NOW + timedelta(days=10, hours=8)  # 2026-11-30 18:00 in Shanghai
UNBOUND = "王海涛"


@pytest.fixture
def park(world):
    """A morning in the park: some have reported, some have not, one is overdue."""
    ids = {
        "leader_open": make_instance(world, LEADER, "charge-06", "2026-11", due=MONTH_END),
        "leader_done": make_instance(world, LEADER, "charge-02", "2026-11", due=MONTH_END, status="done", done=1),
        "other_overdue": make_instance(world, OTHER, "holiday-check", "2027-元旦", due=NOW - timedelta(days=2),
                                       closes=NOW + timedelta(days=1)),
        "other_task": make_instance(world, OTHER, "key-10", "key-10", due=NOW + timedelta(days=41), required=3,
                                    done=1, opens=NOW - timedelta(days=300)),
        "unbound_open": make_instance(world, UNBOUND, "other-07", "2026-11", due=MONTH_END),
        "office_open": make_instance(world, OFFICE, "holiday-check", "2027-元旦", due=NOW + timedelta(days=3)),
        # Not current: closed last month, or not open yet.
        "leader_missed": make_instance(world, LEADER, "charge-06", "2026-10", due=NOW - timedelta(days=20),
                                       status="missed"),
        "leader_next": make_instance(world, LEADER, "charge-06", "2026-12", due=MONTH_END + timedelta(days=31),
                                     opens=NOW + timedelta(days=11)),
    }
    return ids


def test_not_reported_is_the_open_instances_of_current_windows(world, park):
    with world.session() as s:
        rows = status.not_reported(s, NOW)
    assert {r.instance_id for r in rows} == {park[k] for k in
                                             ("leader_open", "other_overdue", "other_task", "unbound_open", "office_open")}
    with world.session() as s:
        unit = s.exec(select(Unit).where(Unit.id == "规划建设部")).one()
        rows = status.not_reported(s, NOW, unit.id)
    assert [(r.person, r.duty_id) for r in rows] == [(OTHER, "holiday-check"), (OTHER, "key-10")]
    assert rows[0].days_overdue(NOW) == 2 and rows[1].days_overdue(NOW) == 0


def test_current_and_by_period(world, park):
    with world.session() as s:
        current = {r.instance_id: r.status for r in status.current(s, NOW)}
        november = {r.instance_id for r in status.for_period(s, "2026-11")}
        october = status.for_period(s, "2026-10")
    assert park["leader_missed"] not in current and park["leader_next"] not in current
    assert current[park["leader_done"]] == "done"
    assert november == {park["leader_open"], park["leader_done"], park["unbound_open"]}
    assert [(r.person, r.status) for r in october] == [(LEADER, "missed")]


def test_overdue_message_groups_by_unit_with_due_dates_and_days(world, park):
    with world.session() as s:
        [body] = status.overdue_messages(status.not_reported(s, NOW), NOW)
    lines = body.splitlines()
    assert lines[0].startswith("【未报告名单】截至 11月20日 10:00：4 人 5 项尚未报告，其中已逾期 1 项。")
    # The unit with overdue work comes first, its nearest due first.
    assert lines[2] == "▌规划建设部（2 项）"
    assert lines[3].startswith(f"· {OTHER}「重点时段节前隐患排查」") and lines[3].endswith("已逾期 2 天")
    assert "1/3" in lines[4] and "还有 41 天" in lines[4]
    assert "▌园区管委会（2 项）" in lines and "▌安全生产部（1 项）" in lines
    assert any(UNBOUND in line for line in lines)
    assert "/nudge" in lines[-1]


def test_overdue_message_when_all_reported():
    [body] = status.overdue_messages([], NOW)
    assert "均已报告" in body


def test_long_lists_are_split_at_line_boundaries():
    lines = [f"第{i}行" + "x" * 90 for i in range(100)]
    parts = status.split_message(lines, limit=1000)
    assert len(parts) > 5 and all(len(p) <= 1000 + 10 for p in parts)
    assert parts[1].startswith("（续 2）")
    rebuilt = [line for p in parts for line in p.splitlines() if not line.startswith("（续")]
    assert rebuilt == lines


def test_stats_rates_per_unit_and_kind(world, park):
    with world.session() as s:
        inst = s.get(DutyInstance, park["leader_open"])
        checkins.record(s, instance=inst, person_id=LEADER, chat_id=LEADER_TG, text="", attachments=[], at=NOW,
                        update_id=1)
        excused = s.get(DutyInstance, park["unbound_open"])
        excused.status = "excused"
    with world.session() as s:
        st = status.stats(status.current(s, NOW))
        counted = status.current_stats(s, NOW)  # the same figures, counted by the database
    for a, b in [(st.overall, counted.overall), *((st.by_unit[u], counted.by_unit[u]) for u in st.by_unit),
                 *((st.by_kind[k], counted.by_kind[k]) for k in st.by_kind)]:
        assert a == b
    assert counted.unit_names == st.unit_names and set(counted.by_kind) == set(st.by_kind)
    assert (st.overall.total, st.overall.completed, st.overall.counted) == (6, 2, 5)
    assert st.by_unit["园区管委会"].rate == 1.0  # 2 done, the excused one does not count
    assert st.by_unit["规划建设部"].rate == 0.0
    assert st.by_kind["inspection"].completed == 1
    [body] = status.stats_message(st, NOW)
    assert "2/5 完成 40%" in body
    assert body.index("规划建设部") < body.index("园区管委会")  # worst first
    assert status.stats_message(status.stats([]), NOW) == [status.OT.STATS_NONE]


def test_nudge_reminds_each_open_instance_once_a_day(world, park, catalog):
    schedule = Schedule(catalog)
    with world.session() as s:
        first = status.nudge(s, NOW, schedule, by=OFFICE)
    assert (first.queued, first.already, first.unbound) == (4, 0, 1)
    assert first.people == {LEADER, OTHER, OFFICE}
    rows = [r for r in outbox_rows(world) if r.dedupe_key.startswith("nudge:")]
    assert {r.chat_id for r in rows} == {LEADER_TG, OTHER_TG, OFFICE_TG}
    leader_row = next(r for r in rows if r.chat_id == LEADER_TG)
    assert "安委办督办" in leader_row.payload["text"] and "带队检查安全生产工作" in leader_row.payload["text"]
    assert f"r:done:{park['leader_open']}" in str(leader_row.payload["buttons"])
    with world.session() as s:
        again = status.nudge(s, NOW + timedelta(hours=3), schedule, by=OFFICE)
    assert (again.queued, again.already) == (0, 4)
    with world.session() as s:
        unit_only = status.nudge(s, NOW + timedelta(hours=20), schedule, unit_id="规划建设部")
    assert (unit_only.queued, unit_only.already) == (2, 0)
    with world.session() as s:
        audits = s.exec(select(AuditLog).where(AuditLog.action == "nudge")).all()
    assert [a.detail["queued"] for a in audits] == [4, 0, 2]


def test_nudge_in_quiet_hours_waits_for_the_morning(world, park, catalog):
    night = NOW.replace(hour=15)  # 23:00 in Shanghai
    with world.session() as s:
        assert status.nudge(s, night, Schedule(catalog)).send_at == datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    rows = [r for r in outbox_rows(world) if r.dedupe_key.startswith("nudge:")]
    assert {r.not_before.isoformat() for r in rows} == {"2026-11-20T23:30:00+00:00"}  # 07:30 next morning


def test_find_unit(world):
    with world.session() as s:
        assert status.find_unit(s, "规划建设部").id == "规划建设部"
        assert status.find_unit(s, "规划").id == "规划建设部"
        assert isinstance(status.find_unit(s, "部"), list)
        assert status.find_unit(s, "不存在") is None


# -- dutybot status --------------------------------------------------------------------------------
def run_cli(world, monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", world.url)
    capsys.readouterr()
    with time_machine.travel(NOW, tick=False):
        code = main(["--duties", str(EXAMPLE), "status", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json_before_and_after_a_checkin(world, park, monkeypatch, capsys):
    code, out, _ = run_cli(world, monkeypatch, capsys, "--format", "json")
    assert code == 0
    before = json.loads(out)
    assert len(before) == 6
    assert all(set(o) == {"person", "unit", "duty", "period", "due_at", "done", "required", "status"} for o in before)
    mine = next(o for o in before if o["person"] == LEADER and o["duty"] == "charge-06")
    assert mine == {"person": LEADER, "unit": "园区管委会", "duty": "charge-06", "period": "2026-11",
                    "due_at": "2026-11-30T18:00:00+08:00", "done": 0, "required": 1, "status": "open"}

    with world.session() as s:
        checkins.record(s, instance=s.get(DutyInstance, park["leader_open"]), person_id=LEADER, chat_id=LEADER_TG,
                        text="", attachments=[], at=NOW, update_id=5)
    _, out, _ = run_cli(world, monkeypatch, capsys, "--format", "json")
    after = next(o for o in json.loads(out) if o["person"] == LEADER and o["duty"] == "charge-06")
    assert (after["done"], after["status"]) == (1, "done")


def test_cli_period_and_unit(world, park, monkeypatch, capsys):
    _, out, _ = run_cli(world, monkeypatch, capsys, "--period", "2026-10", "--format", "json")
    assert [(o["person"], o["status"]) for o in json.loads(out)] == [(LEADER, "missed")]
    _, out, _ = run_cli(world, monkeypatch, capsys, "--unit", "规划建设部", "--format", "json")
    assert {o["duty"] for o in json.loads(out)} == {"holiday-check", "key-10"}
    code, _, err = run_cli(world, monkeypatch, capsys, "--unit", "不存在")
    assert code == 1 and "未知单位" in err


def test_cli_table(world, park, monkeypatch, capsys):
    code, out, _ = run_cli(world, monkeypatch, capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["单位", "人员", "职责", "标题", "周期", "截止", "进度", "状态"]
    assert any("规划建设部" in line and "key-10" in line and "1/3" in line and "待报告" in line for line in lines)
    assert lines[-1].startswith("共 6 项：已完成 1")
    _, out, _ = run_cli(world, monkeypatch, capsys, "--period", "1999-01")
    assert "没有符合条件" in out


def test_unreported_by_unit_counts_what_not_reported_lists(world, park):
    with world.session() as s:
        rows = status.not_reported(s, NOW)
        counts = status.unreported_by_unit(s, NOW)
    expected: dict[str, int] = {}
    for r in rows:
        expected[r.unit_id] = expected.get(r.unit_id, 0) + 1
    assert counts == expected and sum(counts.values()) == len(rows) > 0
