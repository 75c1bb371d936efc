"""Scheduler jobs end to end: open, remind (with dedupe and catch-up), close, the office digest."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.services import digest, reminders
from bot.store.models import DutyInstance, Exemption, Outbox, ReminderItem
from schedules import Schedule, compile_jobs, load_catalog_text

pytest_plugins = ["support.harness"]
from support.harness import Harness  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
CATALOG = """\
timezone: Asia/Shanghai
defaults:
  remind_at: "09:00"
  due_time: "18:00"
  quiet_hours: "22:00-07:30"
  reminders: [open, -3d, 0d, +1d]
  late_days: 3
units:
  - id: 安全生产部
roles:
  负责人: 部门负责人
  安委办: 安委办
people:
  - {name: 甲, unit: 安全生产部, roles: [负责人]}
  - {name: 乙, unit: 安全生产部, roles: [负责人]}
  - {name: 丙, unit: 安全生产部, roles: [安委办], office: true}
duties:
  - id: insp
    title: 带队开展安全生产检查
    kind: inspection
    who: [负责人]
    frequency: 每月至少2次
    source: {document: 测试职责清单, clause: "(一)每月至少带队开展2次安全生产检查,对检查中发现的问题进行督导整改。"}
"""


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def instances(h) -> list[DutyInstance]:
    with h.session() as s:
        return list(s.exec(select(DutyInstance).order_by(DutyInstance.person_id)))


def reminder_rows(h) -> list[Outbox]:
    with h.session() as s:
        return list(s.exec(select(Outbox).where(Outbox.dedupe_key.startswith("remind:")).order_by(Outbox.id)))  # type: ignore[attr-defined]


@pytest.fixture
async def h(database_url, tmp_path):
    async with Harness(database_url, tmp_path, catalog_yaml=CATALOG) as harness:
        yield harness


async def test_open_creates_instances_once(h):
    # November is still open for late check-ins until Dec 3: its instances are made too.
    report = await h.run_job("insp:open", at(12, 1, 0, 0))
    assert report.opened == 4
    again = await h.run_job("insp:open", at(12, 1, 0, 5))
    assert again.opened == 0
    rows = [i for i in instances(h) if i.period_key == "2026-12"]
    assert [(i.person_id, i.required, i.status) for i in rows] == [("乙", 2, "open"), ("甲", 2, "open")]
    assert rows[0].due_at == at(12, 31, 18) and rows[0].closes_at == at(1, 3, 18, year=2027)


async def test_an_approved_leave_excuses_instances_opened_later(h):
    with h.session() as s:
        s.add(Exemption(person_id="甲", reason_kind="出差", reason="赴外地学习", state="approved", decided_by="丙",
                        date_from=at(11, 30, 0, 0), date_to=at(12, 31, 23, 59), decided_at=at(11, 28, 10)))
    await h.run_job("insp:open", at(12, 1, 0, 0))
    december = {i.person_id: i.status for i in instances(h) if i.period_key == "2026-12"}
    assert december == {"甲": "excused", "乙": "open"}
    report = await h.run_job("insp:remind:open", at(12, 1, 9, 0))
    assert not [r for r in reminder_rows(h) if r.person_id == "甲"], report  # nobody reminds an excused duty


async def test_reminder_text_buttons_and_dedupe(h):
    tg = await h.bind("甲")  # 乙 is not bound: an instance, but nobody to remind
    report = await h.run_job("insp:remind:-3d", at(12, 28, 9, 0))
    assert report.opened == 2 and report.queued == 1
    msg = await h.wait_for_message(tg, contains="距截止还有 3 天")
    text = msg["text"]
    for part in ("《测试职责清单》", "2026年12月", "12月31日 18:00", "0/2"):
        assert part in text, (part, text)
    inst = next(i for i in instances(h) if i.person_id == "甲" and i.period_key == "2026-12")
    buttons = [b for row in msg["reply_markup"]["inline_keyboard"] for b in row]
    assert [(b["text"], b["callback_data"]) for b in buttons] == [
        ("报告完成", f"r:done:{inst.id}"), ("上传佐证", f"r:upload:{inst.id}"),
        ("稍后提醒", f"r:snooze:{inst.id}"), ("查看条款", f"r:clause:{inst.id}"),
        ("申请免考核", f"x:ask:{inst.id}")]
    # The same job again (a restart, a double fire): nothing new is queued or sent.
    again = await h.run_job("insp:remind:-3d", at(12, 28, 9, 1))
    assert again.queued == 0
    await h.drain_outbox()
    assert len(await h.messages(tg)) == 1
    assert [r.dedupe_key for r in reminder_rows(h)] == [f"remind:{inst.id}:-3d"]


async def test_two_reminders_of_one_moment_are_one_digest(h):
    tg = await h.bind("甲")
    report = await h.run_job("insp:remind:open", at(12, 1, 9, 0))
    # Dec 1 09:00 is December's "open" and also November's "+1d" (November closes on Dec 3).
    assert report.opened == 4 and report.queued == 2
    msg = await h.wait_for_message(tg, contains="今日待办 2 项")
    nov, dec = sorted((i for i in instances(h) if i.person_id == "甲"), key=lambda i: i.period_key)
    lines = msg["text"].split("\n")
    assert lines[0] == "📋 今日待办 2 项（已逾期 1 项）"
    assert "1. 带队开展安全生产检查（2026年11月） · 已逾期 1 天 · 已报 0/2" in lines
    assert "2. 带队开展安全生产检查（2026年12月） · 12月31日截止 · 已报 0/2" in lines
    buttons = [(b["text"], b["callback_data"]) for row in msg["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == [("报告 1", f"r:done:{nov.id}"), ("报告 2", f"r:done:{dec.id}"), ("📋 全部待办", "d:mine")]
    await h.drain_outbox()
    assert len(await h.messages(tg)) == 1
    with h.session() as s:
        items = s.exec(select(ReminderItem).order_by(ReminderItem.id)).all()
        row = s.get(Outbox, items[0].outbox_id)
    assert {i.outbox_id for i in items} == {row.id} and row.payload["instances"] == [nov.id, dec.id]


async def test_done_instances_get_no_reminder(h):
    tg = await h.bind("甲")
    await h.bind("乙")
    await h.run_job("insp:open", at(12, 1, 0, 0))
    with h.session() as s:
        inst = s.exec(select(DutyInstance).where(DutyInstance.person_id == "甲",
                                                 DutyInstance.period_key == "2026-12")).one()
        inst.done_count, inst.status = 2, "done"
    report = await h.run_job("insp:remind:-3d", at(12, 28, 9, 0))
    assert report.queued == 1  # only 乙
    await h.drain_outbox()
    assert await h.messages(tg) == []


async def test_catch_up_sends_only_the_latest_missed_reminder_once(h):
    tg = await h.bind("甲")
    first = await h.reconcile(at(11, 30, 12))  # first start: sets the watermark, sends nothing
    assert first.since is None and first.queued == 0
    # Down from Nov 30 to Dec 29: the open (Dec 1) and -3d (Dec 28) reminders were missed.
    report = await h.reconcile(at(12, 29, 10))
    assert report.opened == 2 and report.queued == 1 and report.closed == 2  # November's closed
    msg = await h.wait_for_message(tg, contains="带队开展安全生产检查")
    assert "距截止还有 3 天" in msg["text"]
    again = await h.reconcile(at(12, 29, 11))
    assert again.queued == 0
    await h.drain_outbox()
    assert len(await h.messages(tg)) == 1
    assert [r.dedupe_key.rsplit(":", 1)[1] for r in reminder_rows(h)] == ["-3d"]


async def test_close_marks_missed_and_the_office_gets_a_digest_next_morning(h):
    office = await h.bind("丙")
    await h.run_job("insp:open", at(12, 4, 0, 0))
    with h.session() as s:
        done = s.exec(select(DutyInstance).where(DutyInstance.person_id == "甲")).one()
        done.done_count, done.status = 2, "done"
    assert (await h.run_job("insp:close", at(1, 3, 17, 59, year=2027))).closed == 0  # not yet
    assert (await h.run_job("insp:close", at(1, 3, 18, 0, year=2027))).closed == 1
    assert {i.person_id: i.status for i in instances(h)} == {"甲": "done", "乙": "missed"}
    runtime = h.runtime.reminders
    assert await runtime.digest(at(1, 4, 8, 0, year=2027)) == 0  # before the morning time
    assert await runtime.digest(at(1, 4, 9, 0, year=2027)) == 1
    msg = await h.wait_for_message(office, contains="安委办日报")
    assert "乙" in msg["text"] and "带队开展安全生产检查" in msg["text"] and "甲" not in msg["text"]
    assert await runtime.digest(at(1, 4, 9, 30, year=2027)) == 0  # once a day


async def test_reminder_skipped_when_the_duty_was_done_while_queued(database_url, tmp_path):
    async with Harness(database_url, tmp_path, catalog_yaml=CATALOG, start_bot=False) as h:
        tg = await h.bind("甲")
        schedule = Schedule(load_catalog_text(CATALOG))
        with h.session() as s:
            spec = next(j for j in compile_jobs(schedule.catalog) if j.id == "insp:remind:-3d")
            assert reminders.run_job(s, schedule, spec, at(12, 28, 9)).queued == 1
        with h.session() as s:  # a check-in arrives before the reminder was composed
            inst = s.exec(select(DutyInstance).where(DutyInstance.person_id == "甲")).one()
            inst.done_count, inst.status = 2, "done"
        with h.session() as s:
            assert digest.compose_due(s, schedule, at(12, 28, 9, 1)) == 0
            assert [i.state for i in s.exec(select(ReminderItem))] == ["skipped"]
        with h.session() as s:  # ... or after it was composed, before the sender got to it
            spec = next(j for j in compile_jobs(schedule.catalog) if j.id == "insp:remind:0d")
            inst = s.exec(select(DutyInstance).where(DutyInstance.person_id == "甲")).one()
            inst.done_count, inst.status = 0, "open"
            assert reminders.run_job(s, schedule, spec, at(12, 31, 9)).queued == 1
            assert digest.compose_due(s, schedule, at(12, 31, 9)) == 1
            inst.done_count, inst.status = 2, "done"
        await h.start_bot()
        await h.drain_outbox()
        assert [r.state for r in reminder_rows(h)] == ["skipped"]
        assert await h.messages(tg) == []


def test_source_excerpt_quotes_the_matching_phrase(catalog):
    from bot.store.models import Duty

    long_clause = catalog.duty_by_id["main-02a"].source.clause
    duty = Duty(id="main-02a", title="听取班子成员安全生产履职专题汇报", source_document="园区主要负责人安全生产职责清单",
                source_clause=long_clause)
    excerpt = reminders.source_excerpt(duty)
    assert excerpt.startswith("《园区主要负责人安全生产职责清单》(二)…")
    assert "每季度听1次班子成员安全生产履职专题汇报" in excerpt
    assert len(excerpt) < 90


def test_lead_lines():
    assert "还有 7 天" in reminders.lead_for("-7d")
    assert "今天截止" in reminders.lead_for("0d")
    assert "超过截止时间 1 天" in reminders.lead_for("+1d")
    assert "还有 2 小时" in reminders.lead_for("-2h")
