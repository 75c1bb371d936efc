"""Button presses no other handler takes: data from an old message after an upgrade, or forged by
a modified client. Registered last (ORDER), so it runs only when no handler of group 0 matched;
the press is answered (the user's spinner stops) and audited, nothing else happens."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.telegram.access import current_person, refuse_button
from bot.telegram.context import get_ctx

ORDER = 1000


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(stale))


async def stale(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await refuse_button(update, get_ctx(context), current_person(update, context).id, "refused_callback_unknown")
