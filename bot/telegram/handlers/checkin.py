"""Check-ins from Telegram: the reminder's buttons (r:…), photos, albums and documents sent at any
time (a reply to a reminder or digest files them there), corrections from a confirmation's buttons
(r:move / r:mv 改为其他职责, r:undo / r:undone 撤回), and a short answer to anything else a leader sends. Plus the background worker that settles
albums and downloads evidence files (also the 叫应 reports' photos: every Download row).

The message handler is a catch-all for private chats, so this module registers late (ORDER 95):
another area's flow that wants free text or photos (a 叫应 report…) registers earlier in group 0
with a filter that matches only while its flow is open, or in a lower group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot import clock
from bot.services import checkins, corrections, evidence
from bot.services.checkins import Incoming
from bot.telegram.access import current_person
from bot.telegram.context import BotContext, get_ctx
from bot.texts import checkins as T

log = logging.getLogger(__name__)

ORDER = 95
COMMANDS: list[tuple[str, str]] = []  # /mine, /history, /help: see leader.py
IDLE_WAKE = 30.0  # seconds: the worker looks for due work at least this often
MIN_WAIT = 0.05  # seconds between rounds while work is due but held back (an album waiting for the inbox)
WORKER_KEY = "checkins.worker"

# Message contents the bot does not take as evidence, in the order Telegram's fields are checked
# (an animation also carries a `document`, a venue a `location`).
UNSUPPORTED = ("sticker", "voice", "video_note", "animation", "venue", "location", "contact", "poll", "dice",
               "audio", "game", "story")


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(on_tap, pattern=r"^r:"))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE, on_message))
    worker = CheckinWorker(app)
    app.bot_data[WORKER_KEY] = worker
    app.bot_data.setdefault("workers", []).append(worker.run)


# -- Telegram → service --------------------------------------------------------------------------
def _file(kind: str, obj, mime: str = "") -> dict:
    return {
        "kind": kind, "file_id": obj.file_id, "file_unique_id": obj.file_unique_id,
        "size": getattr(obj, "file_size", None), "mime": getattr(obj, "mime_type", None) or mime,
        "width": getattr(obj, "width", None), "height": getattr(obj, "height", None),
        "file_name": getattr(obj, "file_name", None),
    }


def to_incoming(update: Update, message: Message) -> Incoming:
    attachments: list[dict] = []
    unsupported = next((kind for kind in UNSUPPORTED if getattr(message, kind, None)), None)
    if unsupported is None:
        if message.photo:
            attachments.append(_file("photo", message.photo[-1], "image/jpeg"))  # the largest size
        elif message.document:
            attachments.append(_file("document", message.document, "application/octet-stream"))
        elif message.video:
            attachments.append(_file("video", message.video, "video/mp4"))
    replied = message.reply_to_message
    reply_to, reply_buttons = None, ()
    if replied is not None and replied.from_user and replied.from_user.is_bot:
        reply_to = replied.message_id
        markup = replied.reply_markup.inline_keyboard if replied.reply_markup else ()
        reply_buttons = tuple(b.callback_data for row in markup for b in row if isinstance(b.callback_data, str))
    return Incoming(update_id=update.update_id, chat_id=message.chat.id, text=message.text or message.caption or "",
                    media_group_id=message.media_group_id, attachments=tuple(attachments), unsupported=unsupported,
                    reply_to=reply_to, reply_buttons=reply_buttons)


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is None:
        return
    ctx = get_ctx(context)
    person = current_person(update, context)
    incoming = to_incoming(update, message)

    def work() -> checkins.Outcome:
        with ctx.store.session() as s:
            return checkins.receive(s, person, incoming, clock.now(), ctx.schedule.tz)

    outcome = await asyncio.to_thread(work)
    if outcome.action in ("collecting", "checkin", "asking", "kept", "unfiled", "dropped"):
        wake(context.application)  # settle the album, fetch the files


async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    ctx = get_ctx(context)
    person = current_person(update, context)
    chat_id = query.message.chat.id if query.message else person.telegram_id
    parts = (query.data or "").split(":")
    action, args = (parts[1], parts[2:]) if len(parts) >= 3 else ("", [])

    def work() -> str:
        now = clock.now()
        try:
            numbers = [int(a) for a in args]
        except ValueError:
            return T.BAD_BUTTON
        with ctx.store.session() as s:
            if action in ("done", "upload") and len(numbers) == 1:
                return checkins.start_report(s, person, chat_id, numbers[0], query.id, now, upload=action == "upload")
            if action == "snooze" and len(numbers) == 1:
                return checkins.snooze(s, person, chat_id, numbers[0], now, ctx.schedule)
            if action == "clause" and len(numbers) == 1:
                return checkins.clause(s, person, chat_id, numbers[0], query.id)
            if action == "ok" and len(numbers) == 1:
                return checkins.confirm_only(s, person, numbers[0], update.update_id, now, ctx.schedule.tz)
            if action == "pick" and len(numbers) == 2:
                return checkins.pick(s, person, numbers[0], numbers[1], now, ctx.schedule.tz)
            if action == "drop" and len(numbers) == 1:
                return checkins.drop(s, person, numbers[0], now)
            if action == "move" and len(numbers) == 1:
                return corrections.ask_move(s, person, chat_id, numbers[0], query.id, now)
            if action == "mv" and len(numbers) == 2:
                return corrections.move(s, person, numbers[0], numbers[1], now, ctx.schedule.tz).toast
            if action == "undo" and len(numbers) == 1:
                return corrections.ask_withdraw(s, person, chat_id, numbers[0], query.id, now)
            if action == "undone" and len(numbers) == 1:
                return corrections.withdraw(s, person, numbers[0], now, ctx.schedule.tz).toast
        return T.BAD_BUTTON

    toast = await asyncio.to_thread(work)
    if action in ("ok", "pick"):
        wake(context.application)
    with contextlib.suppress(BadRequest):  # a query older than Telegram keeps them: nothing to answer
        await query.answer(toast[:200])


# -- the worker ------------------------------------------------------------------------------------
def wake(app: Application) -> None:
    worker = app.bot_data.get(WORKER_KEY)
    if worker is not None:
        worker.wake.set()


class CheckinWorker:
    """Settles albums once their parts stop coming and downloads evidence, retrying failures."""

    def __init__(self, app: Application):
        self.app = app
        self.wake = asyncio.Event()
        self.rounds = 0
        self.started_at = clock.now()

    async def fetch(self, file_id: str) -> bytes:
        try:
            file = await self.app.bot.get_file(file_id)
        except BadRequest as e:  # too big, unknown file id: asking again will not help
            raise evidence.PermanentError(str(e)) from e
        if not file.file_path:
            raise evidence.PermanentError("Telegram gave no file path (file too big?)")
        return bytes(await file.download_as_bytearray())

    async def run(self, ctx: BotContext, stop: asyncio.Event) -> None:
        self.started_at = clock.now()
        while not stop.is_set():
            self.wake.clear()
            await self.round(ctx)
            delay = await asyncio.to_thread(self._next_delay, ctx)
            await _wait(stop, self.wake, delay)

    async def round(self, ctx: BotContext) -> None:
        def finish() -> int:
            with ctx.store.session() as s:
                return checkins.finish_albums(s, clock.now(), ctx.schedule.tz, started_at=self.started_at)

        def unfiled() -> int:
            with ctx.store.session() as s:
                return checkins.remind_unfiled(s, clock.now(), ctx.schedule.tz)

        await asyncio.to_thread(finish)
        await asyncio.to_thread(unfiled)
        await evidence.run_due(ctx.store, self.fetch, ctx.settings.data_dir, clock.now)
        self.rounds += 1

    def _next_delay(self, ctx: BotContext) -> float:
        with ctx.store.session() as s:
            album = checkins.next_album_due(s)
            download = evidence.next_due(s)
        if album is not None:  # not before the start-up grace (an album held back by the inbox: MIN_WAIT)
            album = max(album, self.started_at + checkins.ALBUM_QUIET)
        times = [t for t in (album, download) if t is not None]
        if not times:
            return IDLE_WAKE
        return min(max((min(times) - clock.now()).total_seconds(), MIN_WAIT), IDLE_WAKE)


async def _wait(stop: asyncio.Event, wake: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()

