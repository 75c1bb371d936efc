"""A leader's own views: /mine (open duties), /history (recent check-ins), /help."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import clock
from bot.services import checkins, outbox
from bot.telegram import handlers
from bot.telegram.access import current_person
from bot.telegram.context import get_ctx
from bot.texts import checkins as T

COMMANDS = [("mine", T.COMMAND_MINE), ("history", T.COMMAND_HISTORY), ("help", T.COMMAND_HELP)]


def register(app: Application) -> None:
    app.add_handler(CommandHandler("mine", mine))
    app.add_handler(CommandHandler("history", history))
    app.add_handler(CommandHandler("help", show_help))


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
