"""The inbox: duplicates ignored, failures kept with their error, chats processed independently."""

from __future__ import annotations

from sqlmodel import select
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.store.models import InboxUpdate
from bot.telegram.inbox import chat_key

pytest_plugins = ["support.harness"]


async def test_a_redelivered_update_is_stored_and_handled_once(harness):
    h = harness
    tg = await h.bind("王海涛")
    update_id = await h.users.send_text(tg, "/help")
    await h.wait_update_processed(update_id)
    await h.wait_for_message(tg)
    await h.users.redeliver(update_id)  # Telegram sends it again (as after a crash before confirming)
    await h.wait_inbox_idle()
    await h.drain_outbox()
    with h.session() as s:
        assert len(s.exec(select(InboxUpdate).where(InboxUpdate.update_id == update_id)).all()) == 1
    assert len(await h.messages(tg)) == 1


async def test_a_failing_update_is_kept_as_failed_and_others_go_on(sqlite_harness):
    h = sqlite_harness
    tg = await h.bind("赵明")

    async def boom(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message and update.message.text == "爆炸":
            raise RuntimeError("boom in a handler")

    h.app.add_handler(TypeHandler(Update, boom), group=-2)
    bad = await h.users.send_text(tg, "爆炸")
    good = await h.users.send_text(tg, "/help")
    row = await h.wait_update_processed(bad)
    assert row.state == "failed" and row.attempts == 3 and "boom in a handler" in row.error
    assert row.payload  # kept for a look (and a retry by hand)
    assert (await h.wait_update_processed(good)).state == "done"
    await h.wait_for_message(tg)


def test_chat_key():
    assert chat_key({"update_id": 1, "message": {"chat": {"id": 5}, "from": {"id": 7}}}) == 5
    assert chat_key({"update_id": 1, "callback_query": {"from": {"id": 7}, "message": {"chat": {"id": 9}}}}) == 9
    assert chat_key({"update_id": 1, "my_chat_member": {"chat": {"id": 3}, "from": {"id": 3}}}) == 3
    assert chat_key({"update_id": 1, "poll": {"id": "x"}}) == "other"
