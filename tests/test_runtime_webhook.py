"""Webhook mode: the sandbox POSTs updates; each is committed to the inbox before the 200."""

from __future__ import annotations

import socket

import httpx
from sqlmodel import select

from bot import clock
from bot.services import invites
from bot.store.models import InboxUpdate, Person
from bot.telegram.app import RuntimeOptions

pytest_plugins = ["support.harness"]
from support.harness import Harness  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_binds_and_rejects_a_wrong_secret(sqlite_url, tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    options = RuntimeOptions(webhook_url=url, webhook_listen="127.0.0.1", webhook_port=port, webhook_secret="s3cret",
                             scheduler=False, reconcile_on_start=False)
    async with Harness(sqlite_url, tmp_path, runtime_options=options) as h:
        with h.session() as s:
            token = invites.create(s, "孙丽", clock.now())
        tg = await h.stranger()
        update_id = await h.users.send_text(tg, f"/start {token}")
        await h.wait_for_message(tg, contains="账号已绑定")
        row = await h.wait_update_processed(update_id)
        assert row.state == "done"
        with h.session() as s:
            assert s.get(Person, "孙丽").telegram_id == tg
        async with httpx.AsyncClient() as client:
            forged = await client.post(url, json={"update_id": 999999, "message": {}},
                                       headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
            garbage = await client.post(url, content=b"not json",
                                        headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
        assert forged.status_code == 403 and garbage.status_code == 400
        with h.session() as s:
            assert s.exec(select(InboxUpdate).where(InboxUpdate.update_id == 999999)).first() is None
