"""Check-ins end to end: unmodified PTB, the whole runtime (inbox, handlers, outbox sender, the
evidence worker) and real HTTP through the Bot API sandbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlmodel import select
from support.checkin_world import jpeg

from bot import clock
from bot.services import checkins, outbox, reminders
from bot.store.models import CheckIn, CheckInDraft, Download, Duty, DutyInstance, Evidence, Outbox
from bot.texts import reminders as RT

pytest_plugins = ["support.harness", "support.checkin_e2e_fixtures"]  # `bot`: one whole bot per module and backend
pytestmark = pytest.mark.asyncio(loop_scope="module")
from support.harness import eventually  # noqa: E402

LEADER = "李卫东"


def open_instance(h, name: str = LEADER, duty_id: str = "charge-06", *, required: int = 1,
                  due_in: timedelta = timedelta(days=5), period: str = "2026-11") -> int:
    now = clock.now()
    with h.session() as s:
        row = DutyInstance(duty_id=duty_id, person_id=name, period_key=period, opens_at=now - timedelta(days=1),
                           due_at=now + due_in, closes_at=now + due_in + timedelta(days=3), required=required)
        s.add(row)
        s.flush()
        return row.id


async def remind(h, tg: int, instance_id: int) -> dict:
    """Queue the reminder the scheduler would send, and wait for it in the leader's chat."""
    since = await h.cursor()
    with h.session() as s:
        inst = s.get(DutyInstance, instance_id)
        duty = s.get(Duty, inst.duty_id)
        outbox.enqueue(s, chat_id=tg, payload=reminders.reminder_payload(inst, duty, RT.LEAD_OPEN),
                       dedupe_key=f"remind:{instance_id}:test", person_id=inst.person_id)
    return await h.wait_for_message(tg, contains=RT.LEAD_OPEN, since=since)


async def tap(h, tg: int, message: dict, data: str, expect: str | None = None, timeout: float = 10.0) -> dict | None:
    """Press a button; with `expect`, wait for the bot's next message containing it."""
    since = await h.cursor()
    await h.users.press_button(tg, message["message_id"], data)
    return await h.wait_for_message(tg, contains=expect, since=since, timeout=timeout) if expect else None


def rows(h, model, *where) -> list:
    with h.session() as s:
        return list(s.exec(select(model).where(*where)))


def evidence_of(h, checkin_id: int, count: int):
    def ready():
        found = rows(h, Evidence, Evidence.checkin_id == checkin_id)
        return found if len(found) >= count else None

    return ready


async def test_photo_checkin_from_a_reminder_is_stored_by_sha256(bot):
    h = bot
    tg = await h.bind(LEADER)
    iid = open_instance(h)
    reminder = await remind(h, tg, iid)
    assert [b["callback_data"] for row in reminder["reply_markup"]["inline_keyboard"] for b in row] == [
        f"r:done:{iid}", f"r:upload:{iid}", f"r:snooze:{iid}", f"r:clause:{iid}", f"x:ask:{iid}"]
    await tap(h, tg, reminder, f"r:done:{iid}", expect="请报告「带队检查安全生产工作」")

    data = jpeg(taken="2026:11:20 09:41:07", size=(640, 480))
    since = await h.cursor()
    update_id = await h.users.send_photo(tg, data, caption="东区三家企业检查完毕")
    done = await h.wait_for_message(tg, contains="已完成", since=since)
    assert "报告 1/1 次" in done["text"] and "照片/文件 1 份" in done["text"]

    [checkin] = rows(h, CheckIn, CheckIn.instance_id == iid)
    assert (checkin.text, checkin.update_id) == ("东区三家企业检查完毕", update_id)
    [ev] = await eventually(evidence_of(h, checkin.id, 1), what="evidence stored")
    sha = hashlib.sha256(data).hexdigest()
    assert ev.sha256 == sha and ev.path == f"evidence/{sha[:2]}/{sha}"
    assert (h.settings.data_dir / ev.path).read_bytes() == data
    assert (ev.width, ev.height, ev.exif_time, ev.size) == (640, 480, "2026:11:20 09:41:07", len(data))
    with h.session() as s:
        assert s.get(DutyInstance, iid).status == "done"


async def test_album_sent_without_a_reminder_is_one_checkin(bot):
    h = bot
    tg = await h.bind(LEADER)
    iid = open_instance(h)
    photos = [jpeg(color=(i * 60, 100, 50)) for i in range(3)]
    since = await h.cursor()
    update_ids = await h.users.send_album(tg, photos, caption="整改前后对比")
    ask = await h.wait_for_message(tg, contains="是否作为「带队检查安全生产工作」", since=since)
    [draft] = rows(h, CheckInDraft)
    assert draft.update_ids == update_ids and len(draft.attachments) == 3
    done = await tap(h, tg, ask, f"r:pick:{draft.id}:{iid}", expect="已完成")
    assert "照片/文件 3 份" in done["text"]
    [checkin] = rows(h, CheckIn)
    assert checkin.text == "整改前后对比" and checkin.media_group_id is not None
    stored = await eventually(evidence_of(h, checkin.id, 3), what="three evidence rows")
    assert sorted(e.sha256 for e in stored) == sorted(hashlib.sha256(p).hexdigest() for p in photos)
    # The question's buttons are gone: it now says where the photos went.
    edited = await h.wait_for_message(tg, predicate=lambda m: m["message_id"] == ask["message_id"]
                                      and "已提交到" in (m.get("text") or ""))
    assert not (edited.get("reply_markup") or {}).get("inline_keyboard")


async def test_the_same_update_delivered_twice_makes_one_checkin(bot):
    h = bot
    tg = await h.bind(LEADER)
    iid = open_instance(h, required=2)
    reminder = await remind(h, tg, iid)
    await tap(h, tg, reminder, f"r:upload:{iid}", expect="请现在发送")
    since = await h.cursor()
    update_id = await h.users.send_photo(tg, jpeg())
    await h.wait_for_message(tg, contains="1/2", since=since)
    await h.users.redeliver(update_id)
    await h.wait_inbox_idle()
    await h.drain_outbox()
    assert len(rows(h, CheckIn)) == 1
    with h.session() as s:
        assert s.get(DutyInstance, iid).done_count == 1
    assert [m for m in await h.messages(tg, since) if "1/2" in (m.get("text") or "")][1:] == []


@pytest.mark.parametrize("kind", ["sticker", "voice", "document"])
async def test_stickers_voice_and_big_files_get_an_answer_and_change_nothing(bot, kind):
    h = bot
    tg = await h.bind(LEADER)
    open_instance(h)
    content = {
        "sticker": {"sticker": {"file_id": "CAACst", "file_unique_id": "st1", "width": 512, "height": 512,
                                "is_animated": False, "is_video": False, "type": "regular"}},
        "voice": {"voice": {"file_id": "AwACvo", "file_unique_id": "vo1", "duration": 3}},
        "document": {"document": {"file_id": "BQACbig", "file_unique_id": "big1", "file_name": "现场录像.mp4",
                                  "mime_type": "video/mp4", "file_size": 25 * 1024 * 1024}},
    }[kind]
    since = await h.cursor()
    await h.users.send_update({"message": {"chat": {"id": tg, "type": "private"},
                                           "from": {"id": tg, "is_bot": False, "first_name": LEADER}, **content}})
    expected = {"sticker": "暂不支持贴纸", "voice": "暂不支持语音", "document": "超过 20 MB"}[kind]
    answer = await h.wait_for_message(tg, contains=expected, since=since)
    if kind == "document":
        assert "现场录像.mp4" in answer["text"] and "25.0 MB" in answer["text"]
    assert rows(h, CheckIn) == [] and rows(h, CheckInDraft) == [] and rows(h, Download) == []


async def test_failed_download_keeps_the_checkin_and_the_evidence_arrives_after_retry(bot):
    h = bot
    tg = await h.bind(LEADER)
    iid = open_instance(h)
    reminder = await remind(h, tg, iid)
    await tap(h, tg, reminder, f"r:upload:{iid}", expect="请现在发送")
    await h.users.faults("getFile", 502, count=1000)  # Telegram's file service is down
    data = jpeg(color=(1, 2, 3))
    since = await h.cursor()
    await h.users.send_photo(tg, data)
    await h.wait_for_message(tg, contains="已完成", since=since)
    [checkin] = rows(h, CheckIn)

    def retried():
        found = rows(h, Download)
        return found if found and found[0].attempts >= 2 else None

    [download] = await eventually(retried, what="failed attempts recorded")
    assert download.checkin_id == checkin.id and download.state == "pending" and "Bad Gateway" in download.error
    assert rows(h, Evidence) == []
    with h.session() as s:
        assert s.get(DutyInstance, iid).status == "done"

    await h.users.clear_faults()  # back up: the next retry stores the photo
    [ev] = await eventually(evidence_of(h, checkin.id, 1), what="evidence after retries")
    assert ev.sha256 == hashlib.sha256(data).hexdigest()
    assert (h.settings.data_dir / ev.path).read_bytes() == data
    [download] = rows(h, Download)
    assert download.state == "done" and download.attempts >= 3


async def test_at_least_three_counts_one_report_at_a_time(bot):
    h = bot
    tg = await h.bind(LEADER)
    iid = open_instance(h, required=3)
    reminder = await remind(h, tg, iid)
    for n in (1, 2, 3):
        ask = await tap(h, tg, reminder, f"r:done:{iid}", expect="仅确认完成")
        draft_id = next(b["callback_data"] for row in ask["reply_markup"]["inline_keyboard"] for b in row
                        if b["callback_data"].startswith("r:ok:")).split(":")[2]
        answer = await tap(h, tg, ask, f"r:ok:{draft_id}", expect="已完成" if n == 3 else f"{n}/3")
        if n < 3:
            assert f"还需 {3 - n} 次" in answer["text"]
    assert "3/3" in answer["text"]
    with h.session() as s:
        inst = s.get(DutyInstance, iid)
        assert (inst.done_count, inst.status) == (3, "done")
    # Done: the reminder's button now says so instead of asking again.
    since = await h.cursor()
    await h.users.press_button(tg, reminder["message_id"], f"r:done:{iid}")
    await h.wait_for_message(tg, contains="已不在报告期内", since=since)


async def test_text_outside_a_flow_gets_a_short_help(bot):
    h = bot
    tg = await h.bind(LEADER)
    since = await h.cursor()
    await h.users.send_text(tg, "今天检查了吗")
    await h.wait_for_message(tg, contains="/mine", since=since)
    since = await h.cursor()
    await h.users.send_text(tg, "/nosuchcommand")
    await h.wait_for_message(tg, contains="没有理解", since=since)


async def test_snooze_and_clause_buttons(bot):
    h = bot
    tg = await h.bind(LEADER)
    iid = open_instance(h)
    reminder = await remind(h, tg, iid)
    clause = await tap(h, tg, reminder, f"r:clause:{iid}", expect="条款原文")
    assert "每月至少带队检查1次安全生产工作" in clause["text"]
    before = clock.now()
    await h.users.press_button(tg, reminder["message_id"], f"r:snooze:{iid}")

    def snoozed():
        return rows(h, Outbox, Outbox.dedupe_key.startswith(f"remind:{iid}:snooze-"))  # type: ignore[attr-defined]

    [row] = await eventually(snoozed, what="snoozed reminder queued")
    assert row.not_before >= before + timedelta(hours=2) - timedelta(seconds=5)
    assert row.state == "pending"
    answers = await eventually(lambda: [a for a in [*_answers(h)] if a.get("text", "").startswith("好的")],
                               what="snooze toast")
    assert "再提醒您" in answers[0]["text"]


def _answers(h) -> list[dict]:
    return [e["answer"] for e in h.sandbox.world.callbacks.values() if e["answer"] is not None]


async def test_mine_and_history(bot):
    h = bot
    tg = await h.bind(LEADER)
    soon = open_instance(h, due_in=timedelta(hours=30))
    open_instance(h, duty_id="charge-02", required=2, due_in=timedelta(days=6))
    since = await h.cursor()
    await h.users.send_text(tg, "/mine")
    mine = await h.wait_for_message(tg, contains="您的待办职责", since=since)
    lines = mine["text"].splitlines()
    assert "2 项" in lines[0] and "带队检查安全生产工作" in lines[3] and "研究分析安全生产工作形势" in lines[-3]
    assert "已报 0/2" in lines[-3]
    assert mine["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"r:done:{soon}"

    await tap(h, tg, mine, f"r:done:{soon}", expect="请报告")
    since = await h.cursor()
    await h.users.send_album(tg, [jpeg(), jpeg(color=(9, 9, 9))], caption="西区")
    await h.wait_for_message(tg, contains="已完成", since=since)
    since = await h.cursor()
    await h.users.send_text(tg, "/history")
    history = await h.wait_for_message(tg, contains="最近的履职报告", since=since)
    assert "带队检查安全生产工作" in history["text"] and "照片/文件 2 份" in history["text"]
    assert "西区" in history["text"]
    since = await h.cursor()
    await h.users.send_text(tg, "/mine")
    mine = await h.wait_for_message(tg, contains="您的待办职责", since=since)
    assert "1 项" in mine["text"] and "带队检查" not in mine["text"]


async def test_a_restart_in_the_middle_of_an_album_loses_nothing(bot, monkeypatch):
    h = bot
    tg = await h.bind(LEADER)
    iid = open_instance(h)
    monkeypatch.setattr(checkins, "ALBUM_QUIET", timedelta(hours=1))  # the album cannot look complete yet
    photos = [jpeg(color=(200, i * 40, 0)) for i in range(3)]
    first = [await h.users.send_photo(tg, photos[n], caption="仓库消防通道" if n == 0 else None,
                                      media_group_id="album-restart") for n in range(2)]

    def collected():
        found = rows(h, CheckInDraft, CheckInDraft.media_group_id == "album-restart")
        return found if found and len(found[0].update_ids) == 2 else None

    await eventually(collected, what="two parts collected")
    await h.stop_bot()
    last = await h.users.send_photo(tg, photos[2], media_group_id="album-restart")  # arrives while down
    monkeypatch.setattr(checkins, "ALBUM_QUIET", timedelta(milliseconds=300))
    since = await h.cursor()
    await h.start_bot()
    ask = await h.wait_for_message(tg, contains="是否作为「带队检查安全生产工作」", since=since)

    def complete():
        found = rows(h, CheckInDraft, CheckInDraft.media_group_id == "album-restart")
        return found if found and len(found[0].update_ids) == 3 else None

    [draft] = await eventually(complete, what="the part sent while the bot was down collected")
    assert draft.update_ids == [*first, last] and len(draft.attachments) == 3
    await tap(h, tg, ask, f"r:pick:{draft.id}:{iid}", expect="已完成")
    [checkin] = rows(h, CheckIn)
    assert checkin.text == "仓库消防通道" and len(checkin.attachments) == 3
    await eventually(evidence_of(h, checkin.id, 3), what="three evidence rows")
