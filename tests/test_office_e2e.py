"""The safety office's views end to end through the sandbox: /overdue, /nudge, /stats, and the
polite refusal a leader gets (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import select

from bot import clock
from bot.store.models import DutyInstance, Outbox

pytest_plugins = ["support.harness", "support.checkin_e2e_fixtures"]  # `bot`: one whole bot per module and backend
pytestmark = pytest.mark.asyncio(loop_scope="module")

OFFICE, LEADER, OTHER, UNBOUND = "孙丽", "李卫东", "吴刚", "王海涛"


def instance(h, name: str, duty_id: str, *, due_in: timedelta, closes_in: timedelta | None = None,
             status: str = "open", period: str = "2026-11") -> int:
    now = clock.now()
    with h.session() as s:
        row = DutyInstance(duty_id=duty_id, person_id=name, period_key=period, opens_at=now - timedelta(days=20),
                           due_at=now + due_in, closes_at=now + (closes_in or due_in + timedelta(days=3)),
                           status=status, done_count=1 if status == "done" else 0)
        s.add(row)
        s.flush()
        return row.id


@pytest.fixture
def daytime(bot):
    """A weekday morning in Shanghai: nudges are routine messages and wait out the night's quiet
    hours, so what a test sees must not depend on when it runs."""
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        yield


@pytest.fixture
def park(bot, daytime):
    return {
        "leader": instance(bot, LEADER, "charge-06", due_in=timedelta(days=5)),
        "leader_done": instance(bot, LEADER, "charge-02", due_in=timedelta(days=5), status="done"),
        "other": instance(bot, OTHER, "holiday-check", due_in=timedelta(days=-2), closes_in=timedelta(days=1),
                          period="2027-元旦"),
        "unbound": instance(bot, UNBOUND, "other-07", due_in=timedelta(days=5)),
    }


async def command(h, tg: int, text: str, contains: str) -> dict:
    since = await h.cursor()
    await h.users.send_text(tg, text)
    return await h.wait_for_message(tg, contains=contains, since=since)


async def test_overdue_for_the_office_grouped_by_unit(bot, park):
    h = bot
    office = await h.bind(OFFICE)
    msg = await command(h, office, "/overdue", "未报告名单")
    text = msg["text"]
    assert "3 人 3 项尚未报告，其中已逾期 1 项" in text
    assert text.index("▌规划建设部") < text.index("▌园区管委会")  # overdue work first
    assert f"· {OTHER}「重点时段节前隐患排查」" in text and "已逾期 2 天" in text
    assert LEADER in text and UNBOUND in text and "还有 5 天" in text
    assert "研究分析安全生产工作形势" not in text  # reported already

    msg = await command(h, office, "/overdue 规划建设部", "未报告名单")
    assert OTHER in msg["text"] and LEADER not in msg["text"]
    msg = await command(h, office, "/overdue 不存在的部门", "没有找到单位")
    assert "安全生产部" in msg["text"]


async def test_overdue_is_refused_to_a_leader(bot, park):
    h = bot
    leader = await h.bind(LEADER)
    for text in ("/overdue", "/nudge", "/stats"):
        msg = await command(h, leader, text, "仅限安委办")
        assert "未报告名单" not in msg["text"]
    with h.session() as s:
        assert not s.exec(select(Outbox).where(Outbox.dedupe_key.startswith("nudge:"))).all()  # type: ignore[attr-defined]


async def test_nudge_reminds_everyone_once_a_day(bot, park):
    h = bot
    office, leader, other = await h.bind(OFFICE), await h.bind(LEADER), await h.bind(OTHER)
    ask = await command(h, office, "/nudge", "确认发送吗")
    assert "将向 2 人发送催报提醒，共 2 项" in ask["text"]
    since = await h.cursor()
    await h.users.press_button(office, ask["message_id"], "o:nudge:*")
    reminded = await h.wait_for_message(leader, contains="安委办督办", since=since)
    assert "带队检查安全生产工作" in reminded["text"]
    assert reminded["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"r:done:{park['leader']}"
    await h.wait_for_message(other, contains="安委办督办", since=since)
    done = await h.wait_for_message(office, predicate=lambda m: m["message_id"] == ask["message_id"]
                                    and "已催报" in (m.get("text") or ""))
    assert "2 项提醒已发出" in done["text"] and "1 项的负责人尚未绑定账号" in done["text"]

    # Again the same day: nobody is reminded twice.
    again = await command(h, office, "/nudge", "确认发送吗")
    since = await h.cursor()
    await h.users.press_button(office, again["message_id"], "o:nudge:*")
    done = await h.wait_for_message(office, predicate=lambda m: m["message_id"] == again["message_id"]
                                    and "已催报" in (m.get("text") or ""))
    assert "0 项提醒已发出，2 项今天已催报过" in done["text"]
    await h.drain_outbox()
    assert [m for m in await h.messages(leader, since) if "安委办督办" in (m.get("text") or "")] == []


async def test_nudge_can_be_cancelled_and_limited_to_a_unit(bot, park):
    h = bot
    office, leader, other = await h.bind(OFFICE), await h.bind(LEADER), await h.bind(OTHER)
    ask = await command(h, office, "/nudge", "确认发送吗")
    since = await h.cursor()
    await h.users.press_button(office, ask["message_id"], "o:nonudge")
    await h.wait_for_message(office, predicate=lambda m: m["message_id"] == ask["message_id"]
                             and "已取消" in (m.get("text") or ""))
    ask = await command(h, office, "/nudge 规划建设部", "确认发送吗")
    assert "（规划建设部）" in ask["text"] and "1 人" in ask["text"]
    since = await h.cursor()
    await h.users.press_button(office, ask["message_id"], "o:nudge:规划建设部")
    await h.wait_for_message(other, contains="安委办督办", since=since)
    await h.drain_outbox()
    assert [m for m in await h.messages(leader, since) if "安委办督办" in (m.get("text") or "")] == []


async def test_stats_for_the_office(bot, park):
    h = bot
    office = await h.bind(OFFICE)
    msg = await command(h, office, "/stats", "完成率")
    text = msg["text"]
    assert "总计：1/4 完成 25%" in text
    assert "· 规划建设部：0/1 0%" in text and "· 园区管委会：1/3 33%" in text
    assert "· 会议：1/1 100%" in text


async def test_help_lists_office_commands_for_the_office_only(bot):
    h = bot
    office, leader = await h.bind(OFFICE), await h.bind(LEADER)
    msg = await command(h, office, "/help", "安全生产履职助手")
    assert "/mine" in msg["text"] and "/overdue" in msg["text"]
    msg = await command(h, leader, "/help", "安全生产履职助手")
    assert "/mine" in msg["text"] and "/history" in msg["text"] and "/overdue" not in msg["text"]
