"""One digest per person and moment, end to end: the example catalogue's 24 December morning
through the scheduler's jobs, the composer, unmodified PTB and the Bot API sandbox; the split at
Telegram's limits; /settings."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.services import digest
from bot.store.models import DutyInstance, Outbox, PersonSetting, ReminderItem

pytest_plugins = ["support.harness"]
from support.harness import eventually  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 12, 24, 9, 0, tzinfo=SH)  # the demo's morning: eight duties of 王海涛 fall due


def buttons(message: dict) -> list[tuple[str, str]]:
    return [(b["text"], b.get("callback_data", "")) for row in (message.get("reply_markup") or {}).get(
        "inline_keyboard", []) for b in row]


async def test_eight_reminders_of_one_minute_are_one_message_with_eight_lines(harness):
    h = harness
    tg = await h.bind("王海涛")
    await h.reconcile(MORNING - timedelta(minutes=1))  # first start: opens the windows, sends nothing
    queued = 0
    for job in h.job_ids("remind"):  # every remind job of the catalogue fires at its own time
        queued += (await h.runtime.reminders.run_job(job, MORNING, compose=False)).queued
    assert queued == 8
    with h.session() as s:  # nothing goes out before the minute's jobs are all in
        assert s.exec(select(Outbox)).all() == []
    assert await h.runtime.reminders.compose(MORNING + timedelta(seconds=2), settle=digest.SETTLE) == 0
    assert await h.runtime.reminders.compose(MORNING + digest.SETTLE, settle=digest.SETTLE) == 1
    msg = await h.wait_for_message(tg, contains="今日待办 8 项")
    await h.drain_outbox()
    assert len(await h.messages(tg)) == 1
    print("\n" + msg["text"])  # how it reads on a phone (pytest -s)
    lines = msg["text"].split("\n")
    numbered = [ln for ln in lines if ln[:2] in {f"{n}." for n in range(1, 9)}]
    assert len(numbered) == 8
    assert lines[0] == "📋 今日待办 8 项，均于 12月31日截止"
    assert "1. 向主要负责人专题汇报分管范围安全生产履职情况（2026年第四季度） · 已报 0/1" in lines
    assert "4. 年度指标任务 · 已报 0/1" in lines  # a one-off task: no period
    with h.session() as s:
        ids = [i.id for i in s.exec(select(DutyInstance).where(DutyInstance.person_id == "王海涛",
                                                                DutyInstance.status == "open"))]
        row = s.exec(select(Outbox)).one()
        items = s.exec(select(ReminderItem)).all()
    assert [b for b in buttons(msg)] == [(f"报告 {n}", f"r:done:{iid}") for n, iid in
                                         enumerate(row.payload["instances"], 1)] + [("📋 全部待办", "d:mine")]
    assert set(row.payload["instances"]) <= set(ids) and {i.outbox_id for i in items} == {row.id}
    # 全部待办 shows /mine.
    since = await h.cursor()
    await h.users.press_button(tg, msg["message_id"], "d:mine")
    await h.wait_for_message(tg, contains="待办", since=since)


async def test_more_than_fits_in_one_message_is_split_cleanly(harness):
    h = harness
    tg = await h.bind("李卫东")
    now = MORNING
    with h.session() as s:
        for n in range(130):
            inst = DutyInstance(duty_id="charge-06", person_id="李卫东", period_key=f"2026-12-{n:03d}",
                                opens_at=now - timedelta(days=3), due_at=now + timedelta(days=n % 9 - 2),
                                closes_at=now + timedelta(days=20))
            s.add(inst)
            s.flush()
            s.add(ReminderItem(dedupe_key=f"remind:{inst.id}:open", instance_id=inst.id, person_id="李卫东",
                               chat_id=tg, label="open", created_at=now, release_at=now))
    assert await h.runtime.reminders.compose(now) == 2
    await h.drain_outbox()
    first, second = await h.messages(tg)
    assert first["text"].startswith("📋 今日待办 130 项（已逾期 ") and second["text"].startswith("📋 今日待办（续 2/2）")
    for m in (first, second):
        assert len(m["text"]) <= 4096 and len(buttons(m)) <= 100 and buttons(m)[-1] == ("📋 全部待办", "d:mine")
    assert len(buttons(first)) + len(buttons(second)) == 130 + 2
    assert buttons(second)[0][0] == f"报告 {len(buttons(first))}"  # numbering goes on
    with h.session() as s:
        assert {i.state for i in s.exec(select(ReminderItem))} == {"sent"}


async def test_settings_choose_how_reminders_come(harness):
    h = harness
    tg = await h.bind("王海涛")
    since = await h.cursor()
    await h.users.send_text(tg, "/settings")
    msg = await h.wait_for_message(tg, contains="提醒方式", since=since)
    assert "当前：每日汇总（09:00）" in msg["text"]
    assert buttons(msg) == [("✅ 每日汇总（09:00）", "d:set:daily"), ("随到随发", "d:set:each")]
    since = await h.cursor()
    await h.users.press_button(tg, msg["message_id"], "d:set:each")
    await h.wait_for_message(tg, contains="已改为：随到随发", since=since)

    def stored():
        with h.session() as s:
            return s.get(PersonSetting, ("王海涛", "digest"))

    assert (await eventually(stored, what="setting stored")).value == "each"
