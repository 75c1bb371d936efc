"""叫应 end to end: the whole bot (PTB, inbox, sender, callout worker) against the sandbox, with a
policy in seconds from this file's catalogue. Waits are on conditions, never sleeps."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlmodel import select

from bot import clock
from bot.services import callouts
from bot.store import kv
from bot.store.models import Callout, CalloutTarget, Download, Evidence, LedgerEntry
from bot.texts import callouts as T
from bot.texts import common as CT

pytest_plugins = ["support.harness"]
from conftest import make_database_url  # noqa: E402
from support.callout_fixtures import ack_button  # noqa: E402
from support.checkin_world import jpeg  # noqa: E402
from support.harness import Harness, eventually  # noqa: E402

CATALOG = """\
timezone: Asia/Shanghai
units:
  - id: 园区管委会
    children: [甲部, 乙部]
roles:
  主要负责人: 主要负责人
  分管负责人: 分管负责人
  部门负责人: 部门负责人
  安委办: 安委办
people:
  - {name: 张主任, unit: 园区管委会, roles: [主要负责人]}
  - {name: 李分管, unit: 园区管委会, roles: [分管负责人], superior: 张主任}
  - {name: 甲部长, unit: 甲部, roles: [部门负责人], superior: 李分管}
  - {name: 乙部长, unit: 乙部, roles: [部门负责人], superior: 李分管}
  - {name: 孙安, unit: 园区管委会, roles: [安委办], office: true, superior: 李分管}
duties: []
callouts:
  red:
    who: [主要负责人, 分管负责人, 部门负责人]
    ack_within: 60s
    recall_every: 60s
    recalls: 1
    escalate: [superior, office]
    report_within: 60s
  yellow:
    who: [部门负责人]
    ack_within: 1s
    recall_every: 1s
    recalls: 2
    escalate: [superior, office]
    report_within: 60s
"""

PEOPLE = ("张主任", "李分管", "甲部长", "乙部长", "孙安")


async def _started(url, tmp_path):
    harness = Harness(url, tmp_path, catalog_yaml=CATALOG)
    await harness.__aenter__()
    harness.tg = {name: await harness.bind(name) for name in PEOPLE}
    return harness


@pytest.fixture
async def h(tmp_path):
    """The bot on SQLite (the store's behaviour on PostgreSQL is covered by the service tests and
    by `h_any` for the main scenario, keeping the suite inside its time budget)."""
    url, drop = make_database_url("sqlite", tmp_path)
    harness = await _started(url, tmp_path)
    yield harness
    await harness.__aexit__(None, None, None)
    drop()


@pytest.fixture
async def h_any(database_url, tmp_path):
    harness = await _started(database_url, tmp_path)
    yield harness
    await harness.__aexit__(None, None, None)


def buttons(message: dict) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in (message.get("reply_markup") or {}).get("inline_keyboard") or []
            for b in row if "callback_data" in b}


async def press(h, name: str, message: dict, data: str) -> None:
    await h.users.press_button(h.tg[name], message["message_id"], data)


def issue(h, level: str = "red", units=(), text: str = "今晚有特大暴雨，请立即落实防范措施") -> int:
    with h.session() as s:
        c = callouts.issue(s, h.catalog, level=level, text=text, units=list(units), hazard="暴雨",
                           issued_by="孙安", board_chat_id=h.tg["孙安"], now=clock.now())
        return c.id


def target(h, cid: int, person: str) -> CalloutTarget | None:
    with h.session() as s:
        return s.exec(select(CalloutTarget).where(CalloutTarget.callout_id == cid,
                                                  CalloutTarget.person_id == person)).first()


async def board_text(h) -> str:
    msg = await h.wait_for_message(h.tg["孙安"], contains="叫应看板")
    return msg["text"]


# -- issuing from Telegram ------------------------------------------------------------------------
async def test_office_issues_with_warn_and_everyone_acks(h):
    office = h.tg["孙安"]
    await h.users.send_text(office, "/warn")
    step = await h.wait_for_message(office, contains="选择预警级别")
    await press(h, "孙安", step, buttons(step)["🔴 红色"])
    step = await h.wait_for_message(office, contains="选择灾害类型")
    await press(h, "孙安", step, buttons(step)["台风"])
    step = await h.wait_for_message(office, contains="选择影响单位")
    await press(h, "孙安", step, buttons(step)["甲部"])
    step = await h.wait_for_message(office, contains="已选：甲部")  # edited in place
    await press(h, "孙安", step, buttons(step)[T.BTN_NEXT])
    await h.wait_for_message(office, contains="请回复预警内容")
    await h.users.send_text(office, "台风“海葵”今夜登陆，请立即落实防台措施")
    step = await h.wait_for_message(office, contains="如需附图片或文件")
    await h.users.send_photo(office, jpeg())
    confirm = await h.wait_for_message(office, contains="请确认发布")
    assert "叫应 3 人" in confirm["text"] and "张主任" in confirm["text"] and "乙部长" not in confirm["text"]
    await press(h, "孙安", confirm, buttons(confirm)[T.BTN_CONFIRM])
    await h.wait_for_message(office, contains="已发布叫应第")

    calls = {}
    for name in ("张主任", "李分管", "甲部长"):
        calls[name] = await h.wait_for_message(h.tg[name], contains="海葵")
        assert "台风" in calls[name]["text"] and "红色预警" in calls[name]["text"]
        await h.wait_for_message(h.tg[name], predicate=lambda m: m["method"] == "sendPhoto")
    assert not [m for m in await h.messages(h.tg["乙部长"]) if "海葵" in (m["text"] or "")]
    for name, msg in calls.items():
        await press(h, name, msg, ack_button(msg))
    for name in calls:
        edited = await h.wait_for_message(h.tg[name], contains="✅ 已收到")
        assert not edited["reply_markup"] or not ack_button(edited)
        await h.wait_for_message(h.tg[name], contains="请报告落实情况")
    await h.wait_for_message(office, contains="全部已收到")
    with h.session() as s:
        c = s.exec(select(Callout)).one()
        assert c.level == "red" and c.hazard == "台风" and c.units == ["甲部"] and c.issued_by == "孙安"
        assert c.attachment["kind"] == "photo"
        assert all(t.acked_at for t in callouts.targets_of(s, c.id))
        assert len(s.exec(select(LedgerEntry).where(LedgerEntry.kind == "ack")).all()) == 3


async def test_warn_with_a_document_sends_it_to_every_recipient(h):
    office = h.tg["孙安"]
    with h.session() as s:  # the flow's state lives in the store: start at the file step
        kv.put(s, "callout:warn:孙安", {"step": "file", "level": "red", "hazard": "地质灾害",
                                                 "units": ["乙部"], "text": "滑坡隐患点加密巡查"}, clock.now())
    pdf = b"%PDF-1.4 \xe9\xa2\x84\xe8\xad\xa6"
    await h.users.send_document(office, pdf, "预警通知.pdf", "application/pdf")
    confirm = await h.wait_for_message(office, contains="请确认发布")
    assert "预警通知.pdf" in confirm["text"] and "叫应 3 人" in confirm["text"]
    await press(h, "孙安", confirm, buttons(confirm)[T.BTN_CONFIRM])
    for name in ("张主任", "李分管", "乙部长"):
        doc = await h.wait_for_message(h.tg[name], predicate=lambda m: m["method"] == "sendDocument")
        assert doc["files"] and doc["files"][0]["sha256"] == hashlib.sha256(pdf).hexdigest()
    with h.session() as s:
        c = s.exec(select(Callout)).one()
    assert c.attachment["kind"] == "document" and (h.settings.data_dir / c.attachment["path"]).read_bytes() == pdf


async def test_leader_cannot_warn(h):
    leader = h.tg["甲部长"]
    await h.users.send_text(leader, "/warn")
    await h.wait_for_message(leader, contains=CT.OFFICE_ONLY[:6])
    await h.wait_inbox_idle()
    with h.session() as s:
        assert s.exec(select(Callout)).all() == []
        assert kv.get(s, "callout:warn:甲部长") is None


# -- the call -------------------------------------------------------------------------------------
async def test_silent_leader_is_recalled_then_escalated_to_superior_who_acks(h_any):
    h = h_any
    cid = issue(h, level="yellow", units=["乙部"])
    silent = h.tg["乙部长"]
    await h.wait_for_message(silent, contains="特大暴雨")
    await h.wait_for_message(silent, contains="第2次叫应", timeout=10)
    await h.wait_for_message(silent, contains="第3次叫应", timeout=10)
    boss = h.tg["李分管"]
    up = await h.wait_for_message(boss, contains="叫应升级", timeout=10)
    assert "乙部长" in up["text"] and "未应答" in up["text"] and "已叫应3次" in up["text"]
    await press(h, "李分管", up, ack_button(up))
    await h.wait_for_message(boss, contains="✅ 已收到")
    t = target(h, cid, "乙部长")
    assert t.calls_made == 3 and t.escalated_to == ["李分管"] and t.acked_at is None
    up_t = target(h, cid, "李分管")
    assert up_t.reason == "escalation" and up_t.escalated_from_id == t.id and up_t.acked_at is not None
    board = await h.wait_for_message(h.tg["孙安"], contains="已升级→李分管")
    assert "乙部长" in board["text"]
    # exactly three calls, never a fourth
    calls = [m for m in await h.messages(silent) if "特大暴雨" in (m["text"] or "")]
    assert len(calls) == 3


async def test_double_press_records_one_ack(h):
    cid = issue(h, units=["乙部"])
    call = await h.wait_for_message(h.tg["乙部长"], contains="特大暴雨")
    data = ack_button(call)
    await press(h, "乙部长", call, data)
    await press(h, "乙部长", call, data)
    await h.wait_inbox_idle()
    answers = await h.users.answered_callbacks()
    assert len(answers) == 2 and any("已于" in (a.get("text") or "") for a in answers)
    with h.session() as s:
        t = s.exec(select(CalloutTarget).where(CalloutTarget.callout_id == cid,
                                               CalloutTarget.person_id == "乙部长")).one()
        acks = s.exec(select(LedgerEntry).where(LedgerEntry.kind == "ack", LedgerEntry.ref_id == t.id)).all()
    assert t.acked_at is not None and len(acks) == 1
    await h.wait_for_message(h.tg["乙部长"], contains="请报告落实情况")  # the worker's next tick queues it
    await h.drain_outbox()
    forms = [m for m in await h.messages(h.tg["乙部长"]) if "请报告落实情况" in (m["text"] or "")]
    assert len(forms) == 1


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_429_and_5xx_lose_no_call_and_double_none(h):
    await h.users.faults("sendMessage", status=502, count=3)
    await h.users.faults("sendMessage", status=429, count=2, retry_after=1)
    cid = issue(h)
    for name in ("张主任", "李分管", "甲部长", "乙部长"):
        await h.wait_for_message(h.tg[name], contains="特大暴雨", timeout=20)
    await h.users.clear_faults()
    await h.drain_outbox()
    for name in ("张主任", "李分管", "甲部长", "乙部长"):
        calls = [m for m in await h.messages(h.tg[name]) if "特大暴雨" in (m["text"] or "")]
        assert len(calls) == 1, name
    stats = await h.users.stats()
    assert stats["faults_served"] >= 2
    with h.session() as s:
        assert {t.calls_made for t in callouts.targets_of(s, cid)} == {1}


# -- the answer -----------------------------------------------------------------------------------

async def test_report_with_measures_number_text_and_photo(h):
    cid = issue(h, units=["乙部"])
    who = h.tg["乙部长"]
    call = await h.wait_for_message(who, contains="特大暴雨")
    await press(h, "乙部长", call, ack_button(call))
    form = await h.wait_for_message(who, contains="请报告落实情况")
    await press(h, "乙部长", form, buttons(form)["已停工"])
    await h.wait_for_message(who, predicate=lambda m: m["message_id"] == form["message_id"] and "✓ 已停工" in buttons(m))
    await press(h, "乙部长", form, buttons(form)["已转移 N 人"])
    await h.wait_for_message(who, contains="转移了多少人")
    await h.users.send_text(who, "35")
    await h.users.send_text(who, "东区厂房人员已全部撤离，现场有专人值守")
    await h.users.send_photo(who, jpeg())
    await h.wait_for_message(who, contains="照片已收到")
    current = await h.wait_for_message(who, predicate=lambda m: m["message_id"] == form["message_id"]
                                       and "照片：1 张" in (m["text"] or ""))
    assert "已转移 35 人" in current["text"] and "东区厂房" in current["text"]
    await press(h, "乙部长", current, buttons(current)[T.REPORT_SUBMIT_BUTTON])
    await h.wait_for_message(who, predicate=lambda m: m["message_id"] == form["message_id"]
                             and "已报告" in (m["text"] or ""))
    t = target(h, cid, "乙部长")
    assert t.report_at is not None and t.report_measures == ["已停工", "已转移 35 人"]
    assert "东区厂房" in t.report_text
    def stored() -> Evidence | None:  # fetched by the check-in worker and chained like any evidence
        with h.session() as s:
            return s.exec(select(Evidence).where(Evidence.callout_target_id == t.id)).first()

    evidence = await eventually(stored, 10, "the report's photo stored")
    assert evidence.size > 0 and evidence.sha256
    with h.session() as s:
        assert s.exec(select(Download).where(Download.callout_target_id == t.id)).one().state == "done"
        assert s.exec(select(LedgerEntry).where(LedgerEntry.kind == "report", LedgerEntry.ref_id == t.id)).one()
        assert s.exec(select(LedgerEntry).where(LedgerEntry.kind == "evidence", LedgerEntry.ref_id == evidence.id)).one()
    # the report is closed: the next text is not taken by it
    with h.session() as s:
        from bot.services.callouts import reports

        assert reports.open_draft(s, "乙部长") is None


# -- lifting --------------------------------------------------------------------------------------
async def test_lift_from_telegram_broadcasts_and_sends_the_summary(h):
    cid = issue(h, units=["甲部"])
    for name in ("张主任", "李分管"):
        call = await h.wait_for_message(h.tg[name], contains="特大暴雨")
        await press(h, name, call, ack_button(call))
        await h.wait_for_message(h.tg[name], contains="✅ 已收到")
    office = h.tg["孙安"]
    await h.users.send_text(office, "/lift")
    menu = await h.wait_for_message(office, contains=T.LIFT_CHOOSE)
    await press(h, "孙安", menu, f"c:lift:{cid}")
    confirm = await h.wait_for_message(office, contains="确认解除")
    await press(h, "孙安", confirm, f"c:lift:y:{cid}")
    for name in ("张主任", "李分管", "甲部长"):
        await h.wait_for_message(h.tg[name], contains="【解除】")
    summary = await h.wait_for_message(office, contains="叫应总结")
    assert "已收到 2" in summary["text"] and "始终未收到" in summary["text"] and "甲部长" in summary["text"]
    with h.session() as s:
        assert s.get(Callout, cid).lifted_by == "孙安"
    await h.drain_outbox()
    with h.session() as s:
        assert target(h, cid, "甲部长").next_call_at is None


async def test_callout_list_for_the_office(h):
    issue(h, units=["乙部"])
    await h.users.send_text(h.tg["孙安"], "/callout")
    msg = await h.wait_for_message(h.tg["孙安"], contains="正在进行的叫应")
    assert "第 1 号" in msg["text"] and "收到 0/3" in msg["text"]  # 乙部 and the park leaders above it


# -- priority -------------------------------------------------------------------------------------
async def test_routine_backlog_does_not_delay_the_callout(tmp_path):
    from bot.sandbox.telegram import Limits
    from bot.services import outbox

    url, _drop = make_database_url("sqlite", tmp_path)
    # Telegram's real 30 messages/s: the backlog cannot drain before the callout however slow or
    # fast this machine is, and what overtakes the calls depends only on what the sender had claimed.
    async with Harness(url, tmp_path, catalog_yaml=CATALOG, allow_unknown_chats=True, limits=Limits()) as h:
        h.tg = {name: await h.bind(name) for name in PEOPLE}
        await h.stop_bot()  # queue the backlog while nothing drains it
        with h.session() as s:
            from bot.services.reminders import enqueue_many
            from bot.store.models import Outbox

            enqueue_many(s, [Outbox(chat_id=900000 + n, payload=outbox.text(f"例行提醒{n}"), priority=outbox.ROUTINE,
                                    dedupe_key=f"remind:bench:{n}") for n in range(3000)])
        await h.start_bot()
        await h.wait_for_messages(50)  # the backlog is draining
        before = await h.cursor()
        issue(h)
        for name in ("张主任", "李分管", "甲部长", "乙部长"):
            await h.wait_for_message(h.tg[name], contains="特大暴雨")
        with h.session() as s:
            left = s.exec(select(Outbox.id).where(Outbox.state == "pending", Outbox.priority == outbox.ROUTINE)).all()
        assert len(left) > 1000, "the backlog drained before the callout: nothing was tested"
        # Only rows the sender had already claimed (in flight, or in the batch it was starting)
        # may reach Telegram between the issue and the last call.
        after = await h.messages(since=before)
        last_call = max(m["seq"] for m in after if "特大暴雨" in (m["text"] or ""))
        overtook = [m for m in after if "例行提醒" in (m["text"] or "") and m["seq"] < last_call]
        limit = h.runtime.sender.max_in_flight + 2 * 16
        assert len(overtook) <= limit, (len(overtook), limit)


# -- campaigns ------------------------------------------------------------------------------------
async def test_office_launches_a_campaign(h):
    office = h.tg["孙安"]
    await h.users.send_text(office, "/campaign")
    step = await h.wait_for_message(office, contains="部署专项检查")
    await press(h, "孙安", step, buttons(step)["举一反三隐患排查"])
    step = await h.wait_for_message(office, contains="选择对象角色")
    await press(h, "孙安", step, buttons(step)["部门负责人"])
    step = await h.wait_for_message(office, contains="已选：部门负责人")
    await press(h, "孙安", step, buttons(step)[T.BTN_NEXT])
    step = await h.wait_for_message(office, contains="选择单位")
    await press(h, "孙安", step, buttons(step)[T.BTN_ALL])
    await h.wait_for_message(office, contains="选择完成期限")
    due = (clock.now() + timedelta(days=10)).astimezone(clock.now().astimezone().tzinfo)
    await h.users.send_text(office, f"{due:%Y-%m-%d}")
    step = await h.wait_for_message(office, contains="如需补充要求")
    await h.users.send_text(office, "对照某地事故通报，重点排查有限空间作业")
    confirm = await h.wait_for_message(office, contains="请确认部署")
    assert "共 2 人" in confirm["text"] and "有限空间" in confirm["text"]
    await press(h, "孙安", confirm, buttons(confirm)[T.BTN_CONFIRM])
    await h.wait_for_message(office, contains="已部署")
    from bot.store.models import Duty, DutyInstance

    with h.session() as s:
        duty = s.exec(select(Duty).where(Duty.item == "campaign")).one()
        insts = s.exec(select(DutyInstance).where(DutyInstance.duty_id == duty.id)).all()
    assert duty.title == "举一反三隐患排查" and sorted(i.person_id for i in insts) == ["乙部长", "甲部长"]
    await h.drain_outbox(timeout=5)
    for name in ("甲部长", "乙部长"):
        pending = [m for m in await h.messages(h.tg[name]) if "举一反三隐患排查" in (m["text"] or "")]
        if not pending:  # launched inside quiet hours: the notice waits for the morning
            with h.session() as s:
                from bot.store.models import Outbox

                row = s.exec(select(Outbox).where(Outbox.dedupe_key.startswith("remind:"),
                                                  Outbox.chat_id == h.tg[name])).one()
                assert row.not_before > clock.now()
