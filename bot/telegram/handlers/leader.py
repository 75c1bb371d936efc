"""A leader's own views: /mine (open duties; also the 全部待办 button of a reminder digest),
/history (recent check-ins), /settings (how reminders come), /help."""

from __future__ import annotations

import asyncio
import contextlib

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot import clock
from bot.services import checkins, outbox, settings
from bot.telegram import handlers
from bot.telegram.access import current_person
from bot.telegram.context import get_ctx
from bot.texts import checkins as T
from bot.texts import digest as DT

COMMANDS = [("mine", T.COMMAND_MINE), ("history", T.COMMAND_HISTORY), ("settings", DT.COMMAND_SETTINGS),
            ("help", T.COMMAND_HELP)]


def register(app: Application) -> None:
    app.add_handler(CommandHandler("mine", mine))
    app.add_handler(CommandHandler("history", history))
    app.add_handler(CommandHandler("settings", show_settings))
    app.add_handler(CommandHandler("help", show_help))
    app.add_handler(CallbackQueryHandler(on_tap, pattern=r"^d:"))


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, what: str, build) -> None:
    """Build the answer from the store in a thread and queue it, keyed by the update."""
    ctx = get_ctx(context)
    person = current_person(update, context)
    chat_id = update.effective_chat.id

    def work() -> None:
        with ctx.store.session() as s:
            body, buttons = build(s, person, ctx)
            outbox.enqueue(s, chat_id=chat_id, payload=outbox.text(body, buttons or None),
                           dedupe_key=f"{what}:{update.update_id}", priority=outbox.INTERACTIVE, person_id=person.id)

    await asyncio.to_thread(work)


async def mine(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _answer(update, context, "mine",
                  lambda s, person, ctx: checkins.mine(s, person.id, clock.now(), ctx.schedule.tz))


async def history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _answer(update, context, "history",
                  lambda s, person, ctx: (checkins.history_text(s, person.id, ctx.schedule.tz), None))


def help_text(is_office: bool) -> str:
    """What the bot does and every area's commands (office commands for the office only)."""
    found = handlers.modules()

    def lines(items: list[tuple[str, str]]) -> str:
        return "\n".join(T.HELP_LINE.format(command=c, description=d) for c, d in items)

    body = T.HELP.format(commands=lines(handlers.commands(found)))
    office = handlers.office_commands(found)
    if is_office and office:
        body += T.HELP_OFFICE.format(commands=lines(office))
    return body


async def show_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _answer(update, context, "help", lambda s, person, ctx: (help_text(person.is_office), None))


async def show_settings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _answer(update, context, "settings", lambda s, person, ctx: settings.view(s, ctx.catalog, person.id))


async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """d:mine (a digest's 全部待办) and d:set:<mode> (/settings)."""
    query = update.callback_query
    ctx = get_ctx(context)
    person = current_person(update, context)
    parts = (query.data or "").split(":")
    if parts[1:] == ["mine"]:
        await mine(update, context)
        toast = ""
    elif len(parts) == 3 and parts[1] == "set":
        chat_id = query.message.chat.id if query.message else person.telegram_id

        def work() -> str:
            with ctx.store.session() as s:
                return settings.choose(s, ctx.catalog, person.id, chat_id, parts[2], query.id, clock.now())

        toast = await asyncio.to_thread(work)
    else:
        toast = T.BAD_BUTTON
    with contextlib.suppress(BadRequest):  # a query older than Telegram keeps them: nothing to answer
        await query.answer(toast[:200] or None)
