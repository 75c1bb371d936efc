"""/web: a one-time sign-in link to the web console, sent through the outbox to the person who asked.

The link opens a page with a 登录 button (a POST spends the link), so Telegram's link preview,
which fetches the URL, cannot use it up."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import clock
from bot.services import outbox, signin
from bot.telegram.access import current_person
from bot.telegram.context import get_ctx
from bot.texts import web as T

COMMANDS = [("web", T.WEB_COMMAND)]


def register(app: Application) -> None:
    app.add_handler(CommandHandler("web", web_link))


async def web_link(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = get_ctx(context)
    person = current_person(update, context)
    chat_id = update.effective_chat.id
    minutes = int(signin.LINK_VALIDITY.total_seconds() // 60)

    def work() -> None:
        with ctx.store.session() as s:
            token = signin.create_link(s, person.id, clock.now(), via="telegram")
            url = signin.link_url(ctx.settings.web_url, token)
            outbox.enqueue(s, chat_id=chat_id, payload=outbox.text(T.WEB_LINK_MESSAGE.format(minutes=minutes, url=url)),
                           dedupe_key=f"web-link:{update.update_id}", priority=outbox.INTERACTIVE, person_id=person.id)

    await asyncio.to_thread(work)
