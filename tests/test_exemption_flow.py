"""Exemptions, /rank and /export end to end: the whole bot against the Telegram sandbox."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import openpyxl
from sqlmodel import select

from bot import clock
from bot.services import exemptions, outbox, reminders, verify
from bot.store.models import Duty, DutyInstance, Exemption

pytest_plugins = ["support.harness"]

LEADER, OFFICE, OTHER_OFFICE = "王海涛", "孙丽", "周敏"


def make_instance(h, person: str, *, due_in: timedelta, duty: str = "main-01") -> int:
    pid = h.catalog.find_person(person).id
    due = clock.now() + due_in
    with h.session() as s:
        inst = DutyInstance(duty_id=duty, person_id=pid, period_key=f"e2e-{due_in.days}", opens_at=due - timedelta(days=20),
                            due_at=due, closes_at=due + timedelta(days=3))
        s.add(inst)
        s.flush()
        return inst.id


def buttons(message: dict) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row if "callback_data" in b]


async def test_exemption_asked_from_a_reminder_and_approved(harness):
    h = harness
    leader, office, other = await h.bind(LEADER), await h.bind(OFFICE), await h.bind(OTHER_OFFICE)
    iid = make_instance(h, LEADER, due_in=timedelta(days=2))
    # The real reminder keyboard, as the reminder jobs queue it.
    with h.session() as s:
        inst = s.get(DutyInstance, iid)
        payload = reminders.reminder_payload(inst, s.get(Duty, inst.duty_id), "提醒")
        outbox.enqueue(s, chat_id=leader, payload=payload, dedupe_key=f"test-remind:{iid}")
    reminder = await h.wait_for_message(leader, contains="提醒")
    assert buttons(reminder)[-1] == f"x:ask:{iid}"

    await h.users.press_button(leader, reminder["message_id"], f"x:ask:{iid}")
    kinds = await h.wait_for_message(leader, contains="请选择事由类型")
    assert buttons(kinds) == [f"x:k:{iid}:0", f"x:k:{iid}:1", f"x:k:{iid}:2", "x:cancel"]
    await h.users.press_button(leader, kinds["message_id"], f"x:k:{iid}:1")  # 出差
    ask = await h.wait_for_message(leader, contains="请直接回复事由和日期")
    assert "不写日期则只申请" in ask["text"]

    # Bad input first: told what to fix, nothing filed, the draft stays open.
    await h.users.send_text(leader, "13月40日")
    await h.wait_for_message(leader, contains="看不懂的日期")
    with h.session() as s:
        assert s.exec(select(Exemption).where(Exemption.state == "pending")).first() is None
    await h.users.send_text(leader, "赴市应急局参加培训")
    filed = await h.wait_for_message(leader, contains="已提交免考核申请")
    assert "出差" in filed["text"]

    # Both office members are asked; one tap decides.
    request = await h.wait_for_message(office, contains="【免考核申请】")
    await h.wait_for_message(other, contains="【免考核申请】")
    assert "王海涛" in request["text"] and "赴市应急局参加培训" in request["text"]
    with h.session() as s:
        ex = s.exec(select(Exemption).where(Exemption.state == "pending")).one()
    assert buttons(request) == [f"x:ok:{ex.id}", f"x:no:{ex.id}"]
    await h.users.press_button(office, request["message_id"], f"x:ok:{ex.id}")

    result = await h.wait_for_message(leader, contains="已批准")
    assert "孙丽" in result["text"] and "免于考核 1 项" in result["text"]
    with h.session() as s:
        inst = s.get(DutyInstance, iid)
        ex = s.get(Exemption, ex.id)
    assert inst.status == "excused" and (ex.state, ex.decided_by) == ("approved", h.catalog.find_person(OFFICE).id)
    # The other member's request message loses its buttons and shows the decision.
    closed = await h.wait_for_message(other, predicate=lambda m: "已批准：孙丽" in (m.get("text") or ""))
    assert buttons(closed) == []
    # A tap that raced the edit (on a copy whose buttons were still there) is not applied twice.
    pushed = await h.users.send_update({"callback_query": {
        "id": "late-tap", "from": {"id": other, "is_bot": False, "first_name": OTHER_OFFICE},
        "chat_instance": "1", "data": f"x:no:{ex.id}"}})
    await h.wait_update_processed(pushed)  # the client returns the update id
    with h.session() as s:
        assert s.get(Exemption, ex.id).state == "approved"
        assert s.get(DutyInstance, iid).status == "excused"
    assert verify.verify(h.store.engine, h.settings.data_dir).ok


async def test_leave_command_then_office_rank_and_export(harness, monkeypatch):
    h = harness
    leader, office = await h.bind(LEADER), await h.bind(OFFICE)
    iid = make_instance(h, LEADER, due_in=timedelta(days=1))
    day = (clock.now() + timedelta(days=1)).astimezone(h.ctx.schedule.tz)
    await h.users.send_text(leader, "/leave 休假 明天")
    await h.wait_for_message(leader, contains="类型应为")
    await h.users.send_text(leader, f"/leave 请假 {day.month}月{day.day}日 家中有事")
    await h.wait_for_message(leader, contains="已提交免考核申请（请假")
    request = await h.wait_for_message(office, contains="家中有事")
    with h.session() as s:
        ex = s.exec(select(Exemption).where(Exemption.state == "pending")).one()
    await h.users.press_button(office, request["message_id"], f"x:no:{ex.id}")
    await h.wait_for_message(leader, contains="未获批准")
    with h.session() as s:
        assert s.get(DutyInstance, iid).status == "open"

    # /leave alone → kinds → 取消: the next text is a check-in matter again, not a request.
    await h.users.send_text(leader, "/leave")
    kinds = await h.wait_for_message(leader, predicate=lambda m: "x:k:0:0" in buttons(m))
    await h.users.press_button(leader, kinds["message_id"], "x:k:0:0")
    await h.wait_for_message(leader, contains="日期必填")
    ask = await h.wait_for_message(leader, contains="请直接回复事由和日期")
    await h.users.press_button(leader, ask["message_id"], "x:cancel")
    await h.wait_for_message(leader, contains="已取消免考核申请")
    with h.session() as s:
        assert exemptions.open_draft(s, h.catalog.find_person(LEADER).id, clock.now()) is None

    # The office's /rank and /export (one bot start for both flows keeps the suite fast).
    await h.users.send_text(leader, "/rank")
    await h.wait_for_message(leader, contains="安委办")  # refused politely
    await h.users.send_text(office, "/rank 2026-Q9")
    await h.wait_for_message(office, contains="2026-Q3")
    await h.users.send_text(office, "/rank")
    ranking = await h.wait_for_message(office, predicate=lambda m: "a:rank:" in "".join(buttons(m)))
    assert "季度" in ranking["text"]

    await h.users.send_text(office, "/export 2026-01-01 2026-12-31")
    sent = await h.wait_for_message(office, predicate=lambda m: bool(m["message"].get("document")))
    doc = sent["message"]["document"]
    assert doc["file_name"] == "履职记录_2026-01-01_2026-12-31.xlsx"
    assert "账本链头" in sent["caption"]
    data = await h.users.get_file_bytes(doc["file_id"])
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["汇总", "明细", "叫应记录", "排名"]

    await h.users.send_text(office, f"/export {LEADER} 2026-01-01 2026-12-31")
    archive = await h.wait_for_message(office, predicate=lambda m: (m["message"].get("document") or {}).get(
        "file_name", "").endswith(".zip"))
    with zipfile.ZipFile(io.BytesIO(await h.users.get_file_bytes(archive["message"]["document"]["file_id"]))) as z:
        assert z.namelist() == [f"履职档案_{LEADER}_2026-01-01_2026-12-31.xlsx"]
    await h.users.send_text(office, "/export 无名氏")
    await h.wait_for_message(office, contains="未知人员")
    # Past Telegram's upload limit the office is told where the file is instead.
    from bot.telegram.handlers import assessment as handler

    monkeypatch.setattr(handler, "TELEGRAM_UPLOAD_LIMIT", 100)
    await h.users.send_text(office, "/export 2026-01-01 2026-03-31")
    big = await h.wait_for_message(office, contains="超过 Telegram 50 MB")
    assert "exports/" in big["text"]
