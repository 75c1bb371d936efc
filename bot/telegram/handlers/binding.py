"""/start <token> (bind this Telegram user with an invite), /start, and a basic /help.

The /help here is added by app.py only when no other handler module registers one.
"""

from __future__ import annotations

import asyncio
import contextlib

from telegram import BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import clock
from bot.services import invites, outbox, people
from bot.store.models import Unit
from bot.telegram.access import current_person
from bot.telegram.context import get_ctx
from bot.texts import common as T

ORDER = 10
COMMANDS = [("start", T.COMMAND_START), ("help", T.COMMAND_HELP)]

_MESSAGES = {
    invites.Outcome.UNKNOWN: T.INVITE_UNKNOWN,
    invites.Outcome.EXPIRED: T.INVITE_EXPIRED,
    invites.Outcome.USED: T.INVITE_USED,
    invites.Outcome.RETIRED: T.INVITE_PERSON_RETIRED,
}


def register(app: Application) -> None:
    app.add_handler(CommandHandler("start", start))


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = get_ctx(context)
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None:
        return
    token = context.args[0] if context.args else None

    def work() -> bool:
        """Answers the /start; True when an office member was just bound."""
        now = clock.now()
        with ctx.store.session() as s:
            newly_office = False
            if token is None:
                person = people.by_telegram(s, user.id)  # the gate lets only bound users get here
                body = T.ALREADY_BOUND.format(name=person.name) if person else T.NOT_BOUND
            else:
                result = invites.redeem(s, token, user.id, now)
                body = _reply(s, result)
                newly_office = result.outcome == invites.Outcome.BOUND and bool(result.person and result.person.is_office)
            outbox.enqueue(s, chat_id=chat.id, payload=outbox.text(body), dedupe_key=f"start:{update.update_id}",
                           priority=outbox.INTERACTIVE)
        return newly_office

    if await asyncio.to_thread(work) and context.bot_data.get("office_menu"):
        with contextlib.suppress(TelegramError):  # the menu is a convenience
            await context.bot.set_my_commands(context.bot_data["office_menu"], scope=BotCommandScopeChat(chat.id))


def _reply(session, result: invites.Redemption) -> str:
    p = result.person
    if result.outcome == invites.Outcome.BOUND and p is not None:
        unit = session.get(Unit, p.unit_id)
        return T.BOUND.format(name=p.name, unit=unit.name if unit else p.unit_id, position=p.position)
    if result.outcome == invites.Outcome.ALREADY_BOUND and p is not None:
        return T.ALREADY_BOUND.format(name=p.name)
    if result.outcome == invites.Outcome.OTHER_PERSON and p is not None:
        return T.INVITE_OTHER_PERSON.format(name=p.name)
    return _MESSAGES.get(result.outcome, T.INVITE_UNKNOWN)


def help_handler(menu: list[tuple[str, str]], office_menu: list[tuple[str, str]]) -> CommandHandler:
    """The basic /help: what the bot does and the command menu (office commands for the office)."""

    async def show_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        ctx = get_ctx(context)
        person = current_person(update, context)
        items = menu + (office_menu if person.is_office else [])
        lines = "\n".join(T.HELP_COMMAND_LINE.format(command=c, description=d) for c, d in items)

        def queue() -> None:
            with ctx.store.session() as s:
                outbox.enqueue(s, chat_id=update.effective_chat.id, payload=outbox.text(T.HELP.format(commands=lines)),
                               dedupe_key=f"help:{update.update_id}", priority=outbox.INTERACTIVE,
                               person_id=person.id)

        await asyncio.to_thread(queue)

    return CommandHandler("help", show_help)
