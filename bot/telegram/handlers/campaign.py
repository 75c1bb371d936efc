"""/campaign (office): launch an ad-hoc 专项检查 (举一反三隐患排查 …) for chosen roles and units.

The guided flow lives in bot/services/campaigns.py (state in the store); its typed steps (a title,
a date, a note) reach it through the callout module's message handler, which takes texts an
open flow is waiting for. Callback data prefix c:cp:. Reminders are sent by the callout worker
(campaigns.tick); check-ins work on campaign instances like on any duty.
"""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot import clock
from bot.services import campaigns
from bot.store.models import Person
from bot.telegram.access import office_only
from bot.telegram.context import get_ctx
from bot.telegram.handlers.callout import show

ORDER = 21
COMMANDS: list[tuple[str, str]] = []
OFFICE_COMMANDS = [("campaign", "部署专项检查（如举一反三隐患排查）")]


def register(app: Application) -> None:
    app.add_handler(CommandHandler("campaign", start))
    app.add_handler(CallbackQueryHandler(on_step, pattern=r"^c:cp:"))


@office_only
async def start(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    ctx = get_ctx(context)

    def work():
        with ctx.store.session() as s:
            return campaigns.start_flow(s, s.get(Person, person.id), clock.now())

    await show(update, context, await asyncio.to_thread(work), f"campaign:{update.update_id}")


@office_only
async def on_step(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    ctx = get_ctx(context)
    data = update.callback_query.data

    def work():
        with ctx.store.session() as s:
            return campaigns.on_callback(s, ctx.schedule, s.get(Person, person.id), data, clock.now())

    await show(update, context, await asyncio.to_thread(work), f"campaign:{update.update_id}")
