"""What handlers and jobs need, kept in `application.bot_data["ctx"]`.

Handler modules live in bot/telegram/handlers/ and each exposes `register(app)`; app.py discovers
them, so an area of the product adds handlers without editing a shared file.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackContext

from bot.config import Settings
from bot.store import Store
from schedules import Catalog, Schedule


@dataclass
class BotContext:
    settings: Settings
    store: Store
    catalog: Catalog
    schedule: Schedule

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.zone


def get_ctx(source: Application | CallbackContext) -> BotContext:
    app = source if isinstance(source, Application) else source.application
    return app.bot_data["ctx"]
