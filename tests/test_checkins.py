"""Check-in services against the real store (SQLite and PostgreSQL): drafts, albums, duplicates,
counting towards "at least N", downloads with retries, and the evidence on disk."""

from __future__ import annotations

import hashlib
from datetime import time, timedelta

import pytest
from sqlmodel import func, select
from support.checkin_world import (
    LEADER,
    LEADER_TG,
    NOW,
    OTHER,
    jpeg,
    make_instance,
    outbox_rows,
    person,
    texts,
)

from bot.services import checkins, evidence, ledger
from bot.services.checkins import Incoming
from bot.store.models import CheckIn, CheckInDraft, Download, DutyInstance, Evidence, InboxUpdate, LedgerEntry
from schedules import Schedule

pytest_plugins = ["support.checkin_fixtures"]  # the `world` fixture

DUE = NOW + timedelta(days=10)


def photo(n: int, size: int = 1000) -> dict:
    return {"kind": "photo", "file_id": f"FILE{n}", "file_unique_id": f"UNIQ{n}", "size": size, "mime": "image/jpeg",
            "width": 64, "height": 48}


def receive(store, msg: Incoming, now=NOW, name=LEADER):
    with store.session() as s:
        return checkins.receive(s, person(s, name), msg, now)


def count(store, model) -> int:
    with store.session() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def instance(store, iid: int) -> DutyInstance:
    with store.session() as s:
        return s.get(DutyInstance, iid)


def checkins_of(store, iid: int) -> list[CheckIn]:
    with store.session() as s:
        return list(s.exec(select(CheckIn).where(CheckIn.instance_id == iid).order_by(CheckIn.id)))


def draft_of(store, draft_id: int) -> CheckInDraft:
    with store.session() as s:
        return s.get(CheckInDraft, draft_id)


# -- photos sent without a reminder --------------------------------------------------------------
def test_photo_with_one_open_duty_asks_for_one_tap_then_records(world):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    out = receive(world, Incoming(update_id=10, chat_id=LEADER_TG, text="园区东片现场", attachments=(photo(1),)))
    assert out.action == "asking"
    assert count(world, CheckIn) == 0
    ask = outbox_rows(world, LEADER_TG)[-1]
    assert "带队检查安全生产工作" in ask.payload["text"]
    datas = [b["data"] for row in ask.payload["buttons"] for b in row]
    assert datas == [f"r:pick:{out.draft_id}:{iid}", f"r:drop:{out.draft_id}"]

    with world.session() as s:
        toast = checkins.pick(s, person(s, LEADER), out.draft_id, iid, NOW + timedelta(minutes=1))
    assert toast == checkins.T.CHECKIN_TOAST
    [row] = checkins_of(world, iid)
    assert row.text == "园区东片现场" and row.update_id == 10 and row.at == NOW
    assert [a["file_unique_id"] for a in row.attachments] == ["UNIQ1"]
    inst = instance(world, iid)
    assert (inst.done_count, inst.status, inst.done_at) == (1, "done", NOW)
    assert "已完成" in texts(world, LEADER_TG)[-2]  # the confirmation, then the prompt's edit
    assert outbox_rows(world, LEADER_TG)[-1].payload == {
        "method": "editMessageText", "edit_of": ask.id, "text": checkins.T.PICKED.format(
            title="带队检查安全生产工作", period="2026年11月"), "buttons": []}
    # A second tap on the same prompt changes nothing.
    with world.session() as s:
        assert checkins.pick(s, person(s, LEADER), out.draft_id, iid, NOW) == checkins.T.ALREADY_TOAST
    assert count(world, CheckIn) == 1


def test_photo_with_several_open_duties_lists_them_nearest_first(world):
    late = make_instance(world, LEADER, "charge-02", "2026-11", due=DUE + timedelta(days=2))
    soon = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    make_instance(world, LEADER, "key-07", "key-07", due=DUE, status="done", done=1)  # not open: not offered
    make_instance(world, OTHER, "holiday-check", "2027-元旦", due=DUE)  # someone else's
    out = receive(world, Incoming(update_id=11, chat_id=LEADER_TG, attachments=(photo(1),)))
    ask = outbox_rows(world, LEADER_TG)[-1]
    datas = [b["data"] for row in ask.payload["buttons"] for b in row]
    assert datas == [f"r:pick:{out.draft_id}:{soon}", f"r:pick:{out.draft_id}:{late}", f"r:drop:{out.draft_id}"]


def test_photo_without_open_duties_is_kept_not_counted(world):
    out = receive(world, Incoming(update_id=12, chat_id=LEADER_TG, attachments=(photo(1),)))
    assert out.action == "kept"
    assert draft_of(world, out.draft_id).attachments[0]["file_id"] == "FILE1"
    assert "没有需要报告的职责" in texts(world, LEADER_TG)[-1]
    assert count(world, CheckIn) == 0


def test_drop_cancels_the_question(world):
    make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    out = receive(world, Incoming(update_id=13, chat_id=LEADER_TG, attachments=(photo(1),)))
    with world.session() as s:
        assert checkins.drop(s, person(s, LEADER), out.draft_id, NOW) == checkins.T.DROPPED_TOAST
        assert checkins.pick(s, person(s, LEADER), out.draft_id, 1, NOW) == checkins.T.ALREADY_TOAST
    assert count(world, CheckIn) == 0


def test_someone_else_cannot_pick_my_draft(world):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    out = receive(world, Incoming(update_id=14, chat_id=LEADER_TG, attachments=(photo(1),)))
    with world.session() as s:
        assert checkins.pick(s, person(s, OTHER), out.draft_id, iid, NOW) == checkins.T.UNKNOWN_TOAST
    assert count(world, CheckIn) == 0


# -- from a reminder's buttons ------------------------------------------------------------------------
def test_report_button_then_text_makes_a_checkin(world):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    with world.session() as s:
        assert checkins.start_report(s, person(s, LEADER), LEADER_TG, iid, "cbq-1", NOW) == checkins.T.ASKED_TOAST
    prompt = outbox_rows(world, LEADER_TG)[-1]
    assert "仅确认完成" in str(prompt.payload["buttons"])
    out = receive(world, Incoming(update_id=20, chat_id=LEADER_TG, text="已带队检查三家企业"))
    assert out.action == "checkin"
    [row] = checkins_of(world, iid)
    assert (row.text, row.attachments, row.update_id) == ("已带队检查三家企业", [], 20)
    # The tap was used: the next text is only answered with help.
    assert receive(world, Incoming(update_id=21, chat_id=LEADER_TG, text="你好")).action == "help"
    assert count(world, CheckIn) == 1


def test_report_button_then_photos_go_to_that_duty_without_asking(world):
    make_instance(world, LEADER, "charge-02", "2026-11", due=DUE - timedelta(days=1))
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    with world.session() as s:
        checkins.start_report(s, person(s, LEADER), LEADER_TG, iid, "cbq-2", NOW, upload=True)
    out = receive(world, Incoming(update_id=22, chat_id=LEADER_TG, text="现场", attachments=(photo(1),)))
    assert out.action == "checkin"
    assert checkins_of(world, iid)[0].attachments[0]["file_id"] == "FILE1"


def test_confirm_only_is_a_bare_checkin_once(world):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    with world.session() as s:
        checkins.start_report(s, person(s, LEADER), LEADER_TG, iid, "cbq-3", NOW)
        draft = s.exec(select(CheckInDraft).where(CheckInDraft.key == "w:cbq-3")).one()
    with world.session() as s:
        assert checkins.confirm_only(s, person(s, LEADER), draft.id, 30, NOW) == checkins.T.CHECKIN_TOAST
    with world.session() as s:
        assert checkins.confirm_only(s, person(s, LEADER), draft.id, 31, NOW) == checkins.T.ALREADY_TOAST
    assert [(c.text, c.attachments) for c in checkins_of(world, iid)] == [("", [])]
    assert instance(world, iid).status == "done"


def test_the_same_tap_delivered_twice_asks_once(world):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    for _ in range(2):
        with world.session() as s:
            checkins.start_report(s, person(s, LEADER), LEADER_TG, iid, "cbq-4", NOW)
    assert len(outbox_rows(world, LEADER_TG)) == 1


def test_report_button_on_a_closed_or_foreign_duty(world):
    closed = make_instance(world, LEADER, "charge-06", "2026-10", due=NOW - timedelta(days=20), status="missed")
    foreign = make_instance(world, OTHER, "holiday-check", "2027-元旦", due=DUE)
    with world.session() as s:
        me = person(s, LEADER)
        assert checkins.start_report(s, me, LEADER_TG, closed, "a", NOW) == checkins.T.NOT_OPEN_TOAST
        assert checkins.start_report(s, me, LEADER_TG, foreign, "b", NOW) == checkins.T.NOT_YOURS_TOAST
        assert checkins.start_report(s, me, LEADER_TG, 999999, "c", NOW) == checkins.T.UNKNOWN_TOAST
    assert "未完成" in texts(world, LEADER_TG)[-1]
    assert count(world, CheckInDraft) == 0


# -- albums ---------------------------------------------------------------------------------------
def test_album_becomes_one_checkin_when_complete(world):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    with world.session() as s:
        checkins.start_report(s, person(s, LEADER), LEADER_TG, iid, "cbq-5", NOW, upload=True)
    for n in range(3):
        out = receive(world, Incoming(update_id=40 + n, chat_id=LEADER_TG, media_group_id="album-1",
                                      text="三处隐患已整改" if n == 0 else "", attachments=(photo(n),)),
                      now=NOW + timedelta(milliseconds=300 * n))
        assert out.action == "collecting"
    last = NOW + timedelta(milliseconds=600)
    with world.session() as s:
        assert checkins.finish_albums(s, last + timedelta(seconds=1)) == 0  # parts may still come
        assert checkins.next_album_due(s) == last + checkins.ALBUM_QUIET
    with world.session() as s:
        assert checkins.finish_albums(s, last + checkins.ALBUM_QUIET) == 1
    [row] = checkins_of(world, iid)
    assert (row.text, row.media_group_id, row.update_id) == ("三处隐患已整改", "album-1", 40)
    assert [a["file_id"] for a in row.attachments] == ["FILE0", "FILE1", "FILE2"]
    assert count(world, Download) == 3
    assert "照片/文件 3 份" in texts(world, LEADER_TG)[-1]


def test_album_part_delivered_twice_counts_once(world):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    parts = [Incoming(update_id=50 + n, chat_id=LEADER_TG, media_group_id="album-2", attachments=(photo(n),))
             for n in range(2)]
    for msg in [parts[0], parts[1], parts[0], parts[1]]:
        receive(world, msg)
    with world.session() as s:
        checkins.finish_albums(s, NOW + checkins.ALBUM_QUIET)
    with world.session() as s:
        [draft] = s.exec(select(CheckInDraft)).all()
    assert draft.update_ids == [50, 51] and len(draft.attachments) == 2
    with world.session() as s:
        checkins.pick(s, person(s, LEADER), draft.id, iid, NOW)
    assert len(checkins_of(world, iid)[0].attachments) == 2
    # Redelivered after the check-in exists: still nothing new.
    assert receive(world, parts[0]).action == "duplicate"
    assert count(world, CheckIn) == 1


def test_album_part_after_the_checkin_becomes_evidence_of_it(world):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    with world.session() as s:
        checkins.start_report(s, person(s, LEADER), LEADER_TG, iid, "cbq-6", NOW, upload=True)
    receive(world, Incoming(update_id=60, chat_id=LEADER_TG, media_group_id="album-3", attachments=(photo(1),)))
    with world.session() as s:
        checkins.finish_albums(s, NOW + checkins.ALBUM_QUIET)
    straggler = Incoming(update_id=61, chat_id=LEADER_TG, media_group_id="album-3", attachments=(photo(2),))
    receive(world, straggler, now=NOW + timedelta(seconds=5))
    [row] = checkins_of(world, iid)
    with world.session() as s:
        downloads = s.exec(select(Download).where(Download.checkin_id == row.id)).all()
    assert sorted(d.tg_file_id for d in downloads) == ["FILE1", "FILE2"]
    assert instance(world, iid).done_count == 1


# -- duplicates and what the bot cannot take -----------------------------------------------------------
def test_same_update_twice_makes_one_checkin(world):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    with world.session() as s:
        checkins.start_report(s, person(s, LEADER), LEADER_TG, iid, "cbq-7", NOW, upload=True)
    msg = Incoming(update_id=70, chat_id=LEADER_TG, attachments=(photo(1),))
    assert receive(world, msg).action == "checkin"
    assert receive(world, msg).action == "duplicate"
    assert count(world, CheckIn) == 1 and instance(world, iid).done_count == 1
    with world.session() as s:  # the store refuses a second row for the same update too
        inst = s.get(DutyInstance, iid)
        inst.status = "open"
        again = checkins.record(s, instance=inst, person_id=LEADER, chat_id=LEADER_TG, text="", attachments=[],
                                at=NOW, update_id=70)
        assert again is not None and not again.created


@pytest.mark.parametrize("kind", ["sticker", "voice", "video_note", "location"])
def test_unsupported_message_gets_an_answer_and_changes_nothing(world, kind):
    make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    assert receive(world, Incoming(update_id=80, chat_id=LEADER_TG, unsupported=kind)).action == "unsupported"
    assert checkins.T.UNSUPPORTED_KINDS[kind] in texts(world, LEADER_TG)[-1]
    assert count(world, CheckInDraft) == count(world, CheckIn) == count(world, Download) == 0


def test_over_limit_file_is_refused_with_its_size(world):
    make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    big = {"kind": "document", "file_id": "BIG", "file_unique_id": "UBIG", "size": 25 * 1024 * 1024,
           "mime": "application/pdf", "file_name": "检查记录.pdf"}
    assert receive(world, Incoming(update_id=81, chat_id=LEADER_TG, attachments=(big,))).action == "too_big"
    answer = texts(world, LEADER_TG)[-1]
    assert "检查记录.pdf" in answer and "25.0 MB" in answer and "20 MB" in answer
    assert count(world, CheckInDraft) == count(world, CheckIn) == count(world, Download) == 0


def test_plain_text_outside_a_flow_gets_help_once_per_update(world):
    for _ in range(2):
        assert receive(world, Incoming(update_id=82, chat_id=LEADER_TG, text="在吗")).action == "help"
    assert texts(world, LEADER_TG) == [checkins.T.HELP_SHORT]


# -- counting -----------------------------------------------------------------------------------------
def test_at_least_three_progress_then_done(world):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE, required=3)
    for n in range(3):
        with world.session() as s:
            inst = s.get(DutyInstance, iid)
            done = checkins.record(s, instance=inst, person_id=LEADER, chat_id=LEADER_TG, text=f"第{n + 1}次",
                                   attachments=[photo(n)], at=NOW + timedelta(days=n), update_id=90 + n)
            assert done.completed == (n == 2)
        inst = instance(world, iid)
        assert inst.done_count == n + 1
        assert inst.status == ("done" if n == 2 else "open")
    progress = texts(world, LEADER_TG)
    assert "1/3" in progress[0] and "还需 2 次" in progress[0]
    assert "2/3" in progress[1]
    assert "已完成" in progress[2] and "3/3" in progress[2]
    assert instance(world, iid).done_at == NOW + timedelta(days=2)
    # Done: the instance takes no more check-ins.
    with world.session() as s:
        assert checkins.record(s, instance=s.get(DutyInstance, iid), person_id=LEADER, chat_id=LEADER_TG, text="",
                               attachments=[], at=NOW + timedelta(days=3), update_id=99) is None


def test_reaching_the_count_after_due_is_late(world):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=NOW - timedelta(hours=5),
                        closes=NOW + timedelta(days=2))
    with world.session() as s:
        checkins.record(s, instance=s.get(DutyInstance, iid), person_id=LEADER, chat_id=LEADER_TG, text="补报",
                        attachments=[], at=NOW, update_id=100)
    assert instance(world, iid).status == "late"
    assert "逾期完成" in texts(world, LEADER_TG)[-1]


def test_after_closes_at_nothing_is_accepted(world):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=NOW - timedelta(days=5),
                        closes=NOW - timedelta(days=2))
    with world.session() as s:
        assert checkins.record(s, instance=s.get(DutyInstance, iid), person_id=LEADER, chat_id=LEADER_TG, text="",
                               attachments=[], at=NOW, update_id=101) is None
        assert checkins.open_instances(s, LEADER, NOW) == []
    assert count(world, CheckIn) == 0


def test_checkins_and_evidence_are_chained_in_the_ledger(world, tmp_path):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    with world.session() as s:
        checkins.record(s, instance=s.get(DutyInstance, iid), person_id=LEADER, chat_id=LEADER_TG, text="x",
                        attachments=[photo(1)], at=NOW, update_id=102)

    async def fetch(file_id):
        return jpeg()

    import asyncio
    assert asyncio.run(evidence.run_due(world, fetch, tmp_path, lambda: NOW)) == 1
    with world.session() as s:
        entries = s.exec(select(LedgerEntry).order_by(LedgerEntry.seq)).all()
        assert [e.kind for e in entries] == ["checkin", "evidence"]
        rows = [s.get(CheckIn, entries[0].ref_id), s.get(Evidence, entries[1].ref_id)]
        for entry, row in zip(entries, rows, strict=True):
            assert entry.content_hash == ledger.content_hash(ledger.CONTENT[entry.kind](row))
        assert entries[1].prev_hash == entries[0].hash


# -- downloads --------------------------------------------------------------------------------------
async def test_downloads_store_files_by_sha256_once(world, tmp_path):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE, required=2)
    blobs = {"FILE1": jpeg(taken="2026:11:20 09:41:07"), "FILE2": jpeg(color=(0, 90, 200), size=(80, 60))}
    with world.session() as s:
        inst = s.get(DutyInstance, iid)
        checkins.record(s, instance=inst, person_id=LEADER, chat_id=LEADER_TG, text="", at=NOW, update_id=110,
                        attachments=[photo(1), photo(2)])

    async def fetch(file_id):
        return blobs[file_id]

    assert await evidence.run_due(world, fetch, tmp_path, lambda: NOW) == 2
    with world.session() as s:
        rows = {e.tg_file_id: e for e in s.exec(select(Evidence))}
    for file_id, data in blobs.items():
        sha = hashlib.sha256(data).hexdigest()
        e = rows[file_id]
        assert e.sha256 == sha and e.path == f"evidence/{sha[:2]}/{sha}" and e.size == len(data)
        assert (tmp_path / e.path).read_bytes() == data
    assert (rows["FILE1"].width, rows["FILE1"].height, rows["FILE1"].exif_time) == (64, 48, "2026:11:20 09:41:07")
    assert (rows["FILE2"].width, rows["FILE2"].height, rows["FILE2"].exif_time) == (80, 60, None)

    # The same photo sent again for the next check-in: stored once, recorded twice, no second download.
    with world.session() as s:
        inst = s.get(DutyInstance, iid)
        again = checkins.record(s, instance=inst, person_id=LEADER, chat_id=LEADER_TG, text="", at=NOW,
                                update_id=111, attachments=[photo(1)])
        second = again.checkin.id
    assert await evidence.run_due(world, fetch, tmp_path, lambda: NOW) == 0
    with world.session() as s:
        [copy] = s.exec(select(Evidence).where(Evidence.checkin_id == second)).all()
    assert copy.sha256 == rows["FILE1"].sha256
    assert len(list((tmp_path / "evidence").rglob("*"))) == 4  # two directories, two files


async def test_failed_download_keeps_the_checkin_and_retries_with_backoff(world, tmp_path):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    with world.session() as s:
        checkins.record(s, instance=s.get(DutyInstance, iid), person_id=LEADER, chat_id=LEADER_TG, text="",
                        at=NOW, update_id=120, attachments=[photo(1)])
    failures = [RuntimeError("502 Bad Gateway"), TimeoutError()]

    async def flaky(file_id):
        if failures:
            raise failures.pop(0)
        return jpeg()

    clock = [NOW]
    assert await evidence.run_due(world, flaky, tmp_path, lambda: clock[0]) == 0
    with world.session() as s:
        d = s.exec(select(Download)).one()
        assert (d.state, d.attempts, d.next_try_at) == ("pending", 1, NOW + evidence.BACKOFF_FIRST)
        assert "502" in d.error
    assert count(world, CheckIn) == 1 and instance(world, iid).status == "done"
    assert await evidence.run_due(world, flaky, tmp_path, lambda: clock[0]) == 0  # not due yet
    clock[0] = NOW + evidence.BACKOFF_FIRST
    assert await evidence.run_due(world, flaky, tmp_path, lambda: clock[0]) == 0
    with world.session() as s:
        d = s.exec(select(Download)).one()
        assert d.attempts == 2 and d.next_try_at == clock[0] + 2 * evidence.BACKOFF_FIRST
    clock[0] += 2 * evidence.BACKOFF_FIRST
    assert await evidence.run_due(world, flaky, tmp_path, lambda: clock[0]) == 1
    assert count(world, Evidence) == 1
    with world.session() as s:
        assert s.exec(select(Download)).one().state == "done"


async def test_a_permanent_refusal_stops_retrying(world, tmp_path):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    with world.session() as s:
        checkins.record(s, instance=s.get(DutyInstance, iid), person_id=LEADER, chat_id=LEADER_TG, text="",
                        at=NOW, update_id=121, attachments=[photo(1)])

    async def refuse(file_id):
        raise evidence.PermanentError("file is too big")

    await evidence.run_due(world, refuse, tmp_path, lambda: NOW)
    with world.session() as s:
        assert s.exec(select(Download)).one().state == "failed"
        assert evidence.next_due(s) is None
    assert count(world, CheckIn) == 1


def test_backoff_is_capped():
    assert evidence.backoff(1) == evidence.BACKOFF_FIRST
    assert evidence.backoff(3) == 4 * evidence.BACKOFF_FIRST
    assert evidence.backoff(40) == evidence.BACKOFF_MAX


# -- snooze and clause -------------------------------------------------------------------------------
def test_snooze_resends_the_reminder_in_two_hours_once(world, catalog):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    schedule = Schedule(catalog)
    for _ in range(2):
        with world.session() as s:
            toast = checkins.snooze(s, person(s, LEADER), LEADER_TG, iid, NOW, schedule)
    assert "12:00" in toast
    [row] = outbox_rows(world, LEADER_TG)
    assert row.not_before == NOW + timedelta(hours=2)
    assert row.dedupe_key == f"remind:{iid}:snooze-202611201200"
    assert "带队检查安全生产工作" in row.payload["text"]
    assert f"r:done:{iid}" in str(row.payload["buttons"])


def test_snooze_late_in_the_evening_waits_for_the_morning(world, catalog):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    evening = NOW.replace(hour=13, minute=0)  # 21:00 in Shanghai: +2 h falls in quiet hours (22:00-07:30)
    with world.session() as s:
        checkins.snooze(s, person(s, LEADER), LEADER_TG, iid, evening, Schedule(catalog))
    [row] = outbox_rows(world, LEADER_TG)
    quiet_end = catalog.defaults.quiet_hours.end
    assert quiet_end == time(7, 30)
    assert row.not_before.astimezone(Schedule(catalog).tz).isoformat() == "2026-11-21T07:30:00+08:00"


def test_clause_sends_the_full_source(world):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    with world.session() as s:
        checkins.clause(s, person(s, LEADER), LEADER_TG, iid, "cbq-9")
        checkins.clause(s, person(s, LEADER), LEADER_TG, iid, "cbq-9")
    [body] = texts(world, LEADER_TG)
    assert "园区分管负责人安全生产职责清单" in body and "每月至少带队检查1次安全生产工作" in body


# -- the leader's views --------------------------------------------------------------------------------
def test_mine_groups_overdue_this_week_and_later_with_the_count_done(world):
    # NOW is Friday 20 November 10:00: this week ends on Sunday night.
    a = make_instance(world, LEADER, "charge-02", "2026-11", due=DUE + timedelta(days=3), required=2, done=1)
    b = make_instance(world, LEADER, "charge-06", "2026-11", due=NOW + timedelta(hours=5))
    c = make_instance(world, LEADER, "key-03", "key-03", due=NOW - timedelta(days=2), closes=NOW + timedelta(days=1))
    d = make_instance(world, LEADER, "charge-01", "2026-W47", due=NOW + timedelta(days=2))
    make_instance(world, LEADER, "key-07", "key-07", due=DUE, status="done", done=1)
    with world.session() as s:
        body, buttons = checkins.mine(s, LEADER, NOW)
    print("\n" + body)
    assert body.splitlines() == [
        "📋 您的待办职责 4 项 · 本期已完成 1 项",
        "",
        "⚠️ 已逾期（1）",
        "1. 强化园区各部室务实履职 · 已逾期 2 天 · 已报 0/1",
        "",
        "📅 本周到期（2）",
        "2. 带队检查安全生产工作（2026年11月） · 今天 15:00 截止 · 已报 0/1",
        "3. 组织制定贯彻落实安全生产决策部署的具体措施（2026年第47周） · 11月22日截止 · 已报 0/1",
        "",
        "🗓 以后（1）",
        "4. 研究分析安全生产工作形势（2026年11月） · 12月3日截止 · 已报 1/2",
        "",
        "点编号报告对应职责。",
    ]
    assert buttons == [[{"text": f"报告 {n}", "data": f"r:done:{i}"} for n, i in enumerate([c, b, d, a], 1)]]
    with world.session() as s:
        assert checkins.mine(s, OTHER, NOW) == (checkins.T.MINE_NONE, [])


def test_history_shows_recent_checkins_with_photo_counts(world):
    iid = make_instance(world, LEADER, "charge-06", "2026-11", due=DUE, required=3)
    with world.session() as s:
        inst = s.get(DutyInstance, iid)
        checkins.record(s, instance=inst, person_id=LEADER, chat_id=LEADER_TG, text="东区", at=NOW,
                        update_id=130, attachments=[photo(1), photo(2)])
        checkins.record(s, instance=inst, person_id=LEADER, chat_id=LEADER_TG, text="", at=NOW + timedelta(hours=1),
                        update_id=131, attachments=[])
    with world.session() as s:
        body = checkins.history_text(s, LEADER)
        assert checkins.history_text(s, OTHER) == checkins.T.HISTORY_NONE
    lines = body.splitlines()
    assert "11月20日 11:00" in lines[1] and "份" not in lines[1]
    assert "11月20日 10:00" in lines[2] and "照片/文件 2 份" in lines[2] and "东区" in lines[2]


async def test_the_worker_also_stores_callout_report_photos(world, tmp_path):
    # 叫应 reports queue Download rows with callout_target_id (bot/services/callouts/reports.py).
    with world.session() as s:
        s.add(Download(callout_target_id=77, tg_file_id="CALLOUT1", tg_file_unique_id="UC1", mime="image/jpeg",
                       next_try_at=NOW))
    data = jpeg(color=(10, 20, 30))

    async def fetch(file_id):
        assert file_id == "CALLOUT1"
        return data

    assert await evidence.run_due(world, fetch, tmp_path, lambda: NOW) == 1
    with world.session() as s:
        ev = s.exec(select(Evidence)).one()
        assert (ev.callout_target_id, ev.checkin_id, ev.tg_file_unique_id) == (77, None, "UC1")
        assert ev.sha256 == hashlib.sha256(data).hexdigest()
        entry = s.exec(select(LedgerEntry)).one()
        assert (entry.kind, entry.ref_id) == ("evidence", ev.id)


def test_albums_wait_for_the_inbox_and_for_a_restart_to_settle(world):
    make_instance(world, LEADER, "charge-06", "2026-11", due=DUE)
    receive(world, Incoming(update_id=140, chat_id=LEADER_TG, media_group_id="album-9", attachments=(photo(1),)))
    later = NOW + checkins.ALBUM_QUIET
    with world.session() as s:  # the worker started just now: parts may still be at Telegram
        assert checkins.finish_albums(s, later, started_at=later - timedelta(seconds=1)) == 0
    with world.session() as s:  # an update not processed yet may be the album's next part
        s.add(InboxUpdate(update_id=141, payload={}, state="new"))
    with world.session() as s:
        assert checkins.finish_albums(s, later, started_at=NOW - timedelta(hours=1)) == 0
    with world.session() as s:  # ... but not forever
        assert checkins.finish_albums(s, NOW + checkins.ALBUM_PATIENCE, started_at=NOW - timedelta(hours=1)) == 1
