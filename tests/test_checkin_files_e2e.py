"""Every file stored on arrival: photos whose question is never answered are on disk within
seconds, choosing the duty later only links them, and after 24 hours the leader is reminded once
and the office sees them as 未归档佐证. Unmodified PTB, the whole runtime, the Bot API sandbox."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from support.checkin_world import jpeg, open_now, rows_of

from bot import clock
from bot.services import checkins, ledger
from bot.services.verify import verify
from bot.store.models import CheckIn, CheckInDraft, Download, Evidence

pytest_plugins = ["support.harness", "support.checkin_e2e_fixtures"]
pytestmark = pytest.mark.asyncio(loop_scope="module")
from support.harness import eventually  # noqa: E402

LEADER = "李卫东"


def open_instance(h, duty_id: str, period: str = "2026-11", name: str = LEADER) -> int:
    return open_now(h.store, name, duty_id, period)


def rows(h, model, *where) -> list:
    return rows_of(h.store, model, *where)


async def test_a_photo_whose_question_is_never_answered_is_on_disk_within_seconds(bot):
    h = bot
    tg = await h.bind(LEADER)
    first, second = open_instance(h, "charge-06"), open_instance(h, "charge-02")
    data = jpeg(color=(9, 99, 199), size=(320, 240))
    since = await h.cursor()
    await h.users.send_photo(tg, data, caption="现场")
    ask = await h.wait_for_message(tg, contains="请问是哪项职责", since=since)

    def stored():
        found = rows(h, Evidence)
        return found if found and (h.settings.data_dir / found[0].path).is_file() else None

    [ev] = await eventually(stored, timeout=10, what="the photo on disk before any answer")
    sha = hashlib.sha256(data).hexdigest()
    assert ev.sha256 == sha and ev.checkin_id is None and ev.callout_target_id is None
    assert (h.settings.data_dir / ev.path).read_bytes() == data
    assert rows(h, CheckIn) == []
    with h.session() as s:
        assert ledger.head(s).kind == "evidence"  # chained at once, like any record

    # A day later: one reminder, with the duties that accept it; the office sees it as unfiled.
    later = clock.now() + checkins.UNFILED_AFTER + timedelta(minutes=1)
    with h.session() as s:
        assert [f.sha256 for f in checkins.unfiled_files(s, clock.now())] == []  # not before 24 hours
        assert checkins.remind_unfiled(s, later) == 1
    with h.session() as s:
        assert checkins.remind_unfiled(s, later + timedelta(hours=1)) == 0  # once
        [unfiled] = checkins.unfiled_files(s, later)
    assert (unfiled.person_id, unfiled.sha256, unfiled.text, unfiled.draft_state) == (LEADER, sha, "现场", "unfiled")
    reminder = await h.wait_for_message(tg, contains="还没有归入任何职责", since=ask["seq"])
    picks = [b["callback_data"] for row in reminder["reply_markup"]["inline_keyboard"] for b in row]
    [draft] = rows(h, CheckInDraft)
    assert picks == [f"r:pick:{draft.id}:{first}", f"r:pick:{draft.id}:{second}", f"r:drop:{draft.id}"]

    # Filing it then only links the stored file: no second download, same bytes, chain intact.
    since = await h.cursor()
    await h.users.press_button(tg, reminder["message_id"], picks[1])
    await h.wait_for_message(tg, contains="已完成", since=since)
    [checkin] = rows(h, CheckIn)
    assert checkin.instance_id == second

    def linked():
        found = rows(h, Evidence, Evidence.checkin_id == checkin.id)
        return found or None

    [filed] = await eventually(linked, what="the filed evidence")
    assert filed.sha256 == sha and filed.path == ev.path
    assert [d.state for d in rows(h, Download)] == ["done"]  # fetched once, on arrival
    with h.session() as s:
        assert checkins.unfiled_files(s, later) == []
    result = verify(h.store.engine, h.settings.data_dir)
    assert result.ok, result.problem
