"""The right duty for what a leader sends, and putting a wrong filing right, end to end: a reply to
a reminder or a digest, a caption with a clear winner, a tie (the bot asks, best guesses first),
改为其他职责 and 撤回 — then `verify` passes and the statuses follow. Unmodified PTB, the whole
runtime, the Bot API sandbox, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import openpyxl
import pytest
from support.checkin_world import jpeg, open_now, rows_of

from bot import clock
from bot.services import digest, export, status
from bot.services.verify import verify
from bot.store.models import CheckIn, CheckInCorrection, CheckInDraft, DutyInstance, Evidence, ReminderItem

pytest_plugins = ["support.harness", "support.checkin_e2e_fixtures"]
pytestmark = pytest.mark.asyncio(loop_scope="module")
from support.harness import eventually  # noqa: E402

LEADER = "李卫东"


def open_instance(h, duty_id: str, period: str = "2026-11", due_in: timedelta = timedelta(days=5)) -> int:
    return open_now(h.store, LEADER, duty_id, period, due_in)


def rows(h, model, *where) -> list:
    return rows_of(h.store, model, *where)


def instance(h, iid: int) -> DutyInstance:
    with h.session() as s:
        return s.get(DutyInstance, iid)


def buttons(message: dict) -> list[str]:
    return [b.get("callback_data", "") for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row]


async def digest_of(h, tg: int, *instance_ids: int) -> dict:
    """The digest the scheduler would send for these instances, as it arrives."""
    since = await h.cursor()
    now = clock.now()
    with h.session() as s:
        for iid in instance_ids:
            s.add(ReminderItem(dedupe_key=f"remind:{iid}:test", instance_id=iid, person_id=LEADER, chat_id=tg,
                               label="test", lead="【职责提醒】", created_at=now, release_at=now))
    with h.session() as s:
        digest.compose_due(s, h.ctx.schedule, now)
    message = await h.wait_for_message(tg, since=since)
    await h.drain_outbox()  # its message id recorded: a reply finds the stored duties
    return message


async def test_a_reply_to_a_reminder_files_it_under_that_duty(bot):
    h = bot
    tg = await h.bind(LEADER)
    inspect, meeting = open_instance(h, "charge-06"), open_instance(h, "charge-02")
    reminder = await digest_of(h, tg, meeting)  # one duty: the classic reminder
    assert "职责：研究分析安全生产工作形势" in reminder["text"]
    since = await h.cursor()
    # The caption says 检查 (the other duty), but the reply says which reminder it answers.
    await h.users.send_photo(tg, jpeg(), caption="检查了会议室", reply_to_message_id=reminder["message_id"])
    done = await h.wait_for_message(tg, contains="已完成", since=since)
    assert "「研究分析安全生产工作形势」（2026年11月）已完成" in done["text"]
    assert done["text"].endswith("（按您回复的提醒归入此项）")
    [checkin] = rows(h, CheckIn)
    assert checkin.instance_id == meeting and instance(h, inspect).done_count == 0

    # A text reply to a digest line's message: the digest's duties, the text picks among them.
    other = open_instance(h, "other-07")
    both = await digest_of(h, tg, inspect, other)
    assert "今日待办 2 项" in both["text"]
    since = await h.cursor()
    await h.users.send_text(tg, "已完成", reply_to_message_id=both["message_id"])
    ask = await h.wait_for_message(tg, contains="请问是哪项职责", since=since)
    [draft] = rows(h, CheckInDraft, CheckInDraft.state == "asking")
    assert buttons(ask)[:2] == [f"r:pick:{draft.id}:{inspect}", f"r:pick:{draft.id}:{other}"]


async def test_a_caption_with_a_clear_winner_is_filed_with_a_way_to_change_it(bot):
    h = bot
    tg = await h.bind(LEADER)
    inspect, meeting = open_instance(h, "charge-06"), open_instance(h, "charge-02", period="2026-Q4")
    since = await h.cursor()
    await h.users.send_photo(tg, jpeg(color=(5, 5, 5)), caption="召开安委会会议，研究部署冬季安全工作")
    done = await h.wait_for_message(tg, contains="已完成", since=since)
    print("\n" + done["text"])
    assert done["text"].startswith("✅ 「研究分析安全生产工作形势」（2026年第四季度）已完成。")
    assert done["text"].endswith("（按您的说明归入此项；不对请点「改为其他职责」）")
    [checkin] = rows(h, CheckIn)
    assert checkin.instance_id == meeting
    assert buttons(done) == [f"r:move:{checkin.id}", f"r:undo:{checkin.id}"]

    # It was the inspection after all: 改为其他职责 → the list → one tap.
    since = await h.cursor()
    await h.users.press_button(tg, done["message_id"], f"r:move:{checkin.id}")
    which = await h.wait_for_message(tg, contains="改为哪项职责", since=since)
    assert buttons(which) == [f"r:mv:{checkin.id}:{inspect}"]
    since = await h.cursor()
    await h.users.press_button(tg, which["message_id"], f"r:mv:{checkin.id}:{inspect}")
    moved = await h.wait_for_message(tg, contains="（由「研究分析安全生产工作形势」改为此项", since=since)
    assert moved["text"].startswith("✅ 「带队检查安全生产工作」（2026年11月）已完成。")
    assert (instance(h, meeting).status, instance(h, meeting).done_count) == ("open", 0)
    assert (instance(h, inspect).status, instance(h, inspect).done_count) == ("done", 1)
    original, new = rows(h, CheckIn)
    [correction] = rows(h, CheckInCorrection)
    assert (original.instance_id, new.instance_id) == (meeting, inspect)  # the original stays as it was
    assert (correction.action, correction.checkin_id, correction.new_checkin_id) == ("move", original.id, new.id)
    assert new.text == original.text and new.at == original.at

    def linked():
        return rows(h, Evidence, Evidence.checkin_id == new.id) or None

    [ev] = await eventually(linked, what="the moved check-in's photo")
    assert ev.sha256 in {e.sha256 for e in rows(h, Evidence, Evidence.checkin_id == original.id)}

    # Then withdrawn altogether (撤回, confirmed): the inspection is open again.
    since = await h.cursor()
    await h.users.press_button(tg, moved["message_id"], f"r:undo:{new.id}")
    sure = await h.wait_for_message(tg, contains="确定撤回", since=since)
    since = await h.cursor()
    await h.users.press_button(tg, sure["message_id"], f"r:undone:{new.id}")
    await h.wait_for_message(tg, contains="已撤回「带队检查安全生产工作」", since=since)
    assert (instance(h, inspect).status, instance(h, inspect).done_count) == ("open", 0)
    with h.session() as s:
        current = {r.duty_id: r.status for r in status.current(s, clock.now()) if r.person == LEADER}
    assert current == {"charge-06": "open", "charge-02": "open"}
    assert len(rows(h, CheckIn)) == 2 and len(rows(h, CheckInCorrection)) == 2
    result = verify(h.store.engine, h.settings.data_dir)
    assert result.ok, result.problem
    # The export shows both: the original (marked) in 明细, and each correction in 更正记录.
    today = clock.now().date()
    out = export.write_xlsx(h.store, h.tmp_path / "record.xlsx", today, today + timedelta(days=40), clock.now(),
                            data_dir=h.settings.data_dir)
    assert out.rows["更正记录"] == 2
    book = openpyxl.load_workbook(out.path)
    contents = [r[13] for r in book["明细"].iter_rows(min_row=2, values_only=True) if r[13]]
    assert any(c.startswith("【已于 ") and "改为「带队检查安全生产工作」2026-11】召开安委会会议" in c for c in contents)
    assert any("撤回，不计入】召开安委会会议" in c for c in contents)
    fixes = list(book["更正记录"].iter_rows(min_row=2, values_only=True))
    assert [(f[2], f[3], f[9]) for f in fixes] == [("改为其他职责", original.id, new.id), ("撤回", new.id, None)]
    # A check-in is corrected once.
    since = await h.cursor()
    await h.users.press_button(tg, done["message_id"], f"r:undo:{checkin.id}")
    await h.wait_inbox_idle()
    await h.drain_outbox()
    assert [m for m in await h.messages(tg, since) if "确定撤回" in (m.get("text") or "")] == []


async def test_a_tie_asks_with_the_best_guesses_first(bot):
    h = bot
    tg = await h.bind(LEADER)
    meeting = open_instance(h, "charge-02", due_in=timedelta(days=2))
    first = open_instance(h, "charge-06", period="2026-10", due_in=timedelta(days=1))
    second = open_instance(h, "other-07", period="2026-11", due_in=timedelta(days=9))
    since = await h.cursor()
    await h.users.send_photo(tg, jpeg(color=(7, 7, 7)), caption="带队检查")  # two inspections fit alike
    ask = await h.wait_for_message(tg, contains="请问是哪项职责", since=since)
    assert "最可能的排在前面" in ask["text"]
    [draft] = rows(h, CheckInDraft, CheckInDraft.state == "asking")
    assert buttons(ask) == [f"r:pick:{draft.id}:{first}", f"r:pick:{draft.id}:{second}",
                            f"r:pick:{draft.id}:{meeting}", f"r:drop:{draft.id}"]
    assert rows(h, CheckIn) == []
    # A duty that no longer accepts a check-in is never offered.
    with h.session() as s:
        s.get(DutyInstance, first).status = "missed"
    since = await h.cursor()
    await h.users.send_photo(tg, jpeg(color=(8, 8, 8)), caption="现场")
    again = await h.wait_for_message(tg, contains="请问是哪项职责", since=since)
    assert not any(str(first) == b.rsplit(":", 1)[1] for b in buttons(again) if b.startswith("r:pick:"))
