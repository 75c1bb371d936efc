"""叫应 on Telegram: /warn (office), 收到, the report form, /callout, /lift, and the worker.

Callback data (prefix c:): c:ack:<target> | c:m:<target>:<measure> | c:rs:<target> (submit the
report) | c:w:… (the /warn flow, bot/services/warn_flow.py) | c:lift:<callout> |
c:lift:y:<callout> | c:lift:n. The /campaign flow (c:cp:…) is in handlers/campaign.py.

Texts and files: while an office member is at a /warn or /campaign step that takes text or a
file, or a leader has a report open (acked, not submitted, warning not lifted), their messages are
for us: a filter asks the store, and the handler ends the update's processing
(ApplicationHandlerStop) so the check-in handlers never see them. Everything else passes by.

The worker (`callout_worker`, registered in app.bot_data["workers"]) runs callouts.tick every
half second (at once when a 收到 press wakes it) and campaigns.tick every 30 seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import clock
from bot.services import callouts, campaigns, outbox, people
from bot.services.callouts import render, reports, warn_flow
from bot.store.models import Person, row_id_of
from bot.telegram.access import current_person, office_only
from bot.telegram.context import BotContext, get_ctx
from bot.texts import callouts as T
from bot.texts import fmt

log = logging.getLogger(__name__)

ORDER = 20  # before the check-in handlers: our flows take their texts and photos first
COMMANDS: list[tuple[str, str]] = []
OFFICE_COMMANDS = [("warn", "发布预警叫应"), ("callout", "查看正在进行的叫应"), ("lift", "解除预警"),
                   ("summary", "提交叫应总结")]
PHONE_KEY = "callout_phone_worker"  # the running bot.phone.worker.PhoneWorker, if any
WAKE_KEY = "callout_wake"
TICK_EVERY = 0.5
CAMPAIGN_EVERY = 30.0
MAX_FILE_BYTES = 20 * 1024 * 1024


def register(app: Application) -> None:
    app.add_handler(CommandHandler("warn", warn))
    app.add_handler(CommandHandler("callout", list_active))
    app.add_handler(CommandHandler("lift", lift_menu))
    app.add_handler(CommandHandler("summary", write_summary))
    app.add_handler(CallbackQueryHandler(on_ack, pattern=r"^c:ack:\d+$"))
    app.add_handler(CallbackQueryHandler(on_measure, pattern=r"^c:m:\d+:\w+$"))
    app.add_handler(CallbackQueryHandler(on_submit, pattern=r"^c:rs:\d+$"))
    app.add_handler(CallbackQueryHandler(on_warn_step, pattern=r"^c:w:"))
    app.add_handler(CallbackQueryHandler(on_lift, pattern=r"^c:lift:(\d+|y:\d+|n)$"))
    # The cheap filters first: the store is asked only about texts, photos and documents.
    app.add_handler(MessageHandler((filters.TEXT & ~filters.COMMAND | filters.PHOTO | filters.Document.ALL)
                                   & ClaimedMessage(app), on_message))
    wake = asyncio.Event()
    app.bot_data[WAKE_KEY] = wake

    async def worker(ctx: BotContext, stop: asyncio.Event) -> None:
        await callout_worker(ctx, stop, wake=wake)

    worker.__qualname__ = "callout_worker"
    app.bot_data.setdefault("workers", []).append(worker)

    async def phones(ctx: BotContext, stop: asyncio.Event) -> None:
        from bot.phone.worker import phone_worker

        def started(w) -> None:
            app.bot_data[PHONE_KEY] = w

        await phone_worker(ctx.settings, ctx.store, stop, on_answer=wake.set, started=started)

    phones.__qualname__ = "phone_worker"
    app.bot_data["workers"].append(phones)


# ---------------------------------------------------------------------------------------------
# which messages are ours
# ---------------------------------------------------------------------------------------------
def claim(session, person_id: str, kind: str) -> str | None:
    """Who takes a message of `kind` (text | file) from this person: warn | campaign | report | None."""
    warn = warn_flow.active_state(session, person_id)
    if warn and warn.get("step") == ("text" if kind == "text" else "file"):
        return "warn"
    if kind == "text":
        camp = campaigns.flow_state(session, person_id)
        if camp and camp.get("step") in ("title", "deadline", "note"):
            return "campaign"
    if reports.open_draft(session, person_id) is not None:
        return "report"
    return None


class ClaimedMessage(filters.UpdateFilter):
    """Messages one of our flows or an open report is waiting for (asks the store)."""

    def __init__(self, app: Application):
        super().__init__(name="callout.ClaimedMessage")
        self.app = app

    def filter(self, update: Update) -> bool:
        user, message = update.effective_user, update.message
        if user is None or message is None:
            return False
        kind = "file" if (message.photo or message.document) else "text"
        ctx: BotContext = self.app.bot_data["ctx"]
        with ctx.store.session() as s:
            person = people.by_telegram(s, user.id)
            return person is not None and claim(s, person.id, kind) is not None


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------
def keyboard(rows: list[list[dict]] | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b["data"]) for b in row]
                                 for row in rows])


def wake_worker(context: ContextTypes.DEFAULT_TYPE) -> None:
    event = context.application.bot_data.get(WAKE_KEY)
    if event is not None:
        event.set()


def _send(ctx: BotContext, chat_id: int, key: str, text: str, buttons=None, person_id: str | None = None) -> None:
    with ctx.store.session() as s:
        outbox.enqueue(s, chat_id=chat_id, payload=outbox.text(text, buttons), dedupe_key=key,
                       priority=outbox.INTERACTIVE, person_id=person_id)


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE, reply, key: str) -> None:
    """Show a flow's reply: answer the tap, edit the tapped message or queue a new one."""
    ctx = get_ctx(context)
    query = update.callback_query
    if query is not None:
        with contextlib.suppress(BadRequest):
            await query.answer(reply.toast or None, show_alert=reply.alert)
    if not reply.text:
        return
    if reply.edit and query is not None and query.message is not None:
        try:
            await query.edit_message_text(reply.text, reply_markup=keyboard(reply.buttons))
            return
        except BadRequest as e:  # "message is not modified" or too old to edit: send it instead
            if "not modified" in str(e).lower():
                return
    chat = update.effective_chat
    person = current_person(update, context)
    await asyncio.to_thread(_send, ctx, chat.id, key, reply.text, reply.buttons or None, person.id)


def _wake_downloads(app: Application) -> None:
    """A report's photo is a Download row: the check-in worker fetches every one; wake it now."""
    try:
        from bot.telegram.handlers import checkin
    except ImportError:  # that area is not installed: its worker is not either
        return
    checkin.wake(app)


def _target_id(data: str, index: int = 2) -> int:
    return int(data.split(":")[index])


# ---------------------------------------------------------------------------------------------
# 收到 and the report
# ---------------------------------------------------------------------------------------------
async def on_ack(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = get_ctx(context)
    query = update.callback_query
    person = current_person(update, context)
    target_id = _target_id(query.data)

    def work() -> tuple[str, str]:
        now = clock.now()
        with ctx.store.session() as s:
            result = callouts.ack(s, target_id, person.id, now)
            if result.status == "acked":  # the worker, woken below, updates the board
                if result.callout.lifted_at is not None:
                    return result.status, T.ACK_AFTER_LIFT.format(clock=fmt.clock(result.callout.lifted_at))
                return result.status, T.ACK_ANSWER
            if result.status == "again":
                return result.status, T.ACK_AGAIN.format(clock=fmt.clock(result.target.acked_at))
            if result.status == "not_yours":
                return result.status, T.ACK_NOT_YOURS
            return result.status, T.ACK_UNKNOWN

    status, text = await asyncio.to_thread(work)
    with contextlib.suppress(BadRequest):  # a query older than Telegram keeps them: the ack is recorded anyway
        await query.answer(text, show_alert=status in ("not_yours", "unknown"))
    if status == "acked":
        wake_worker(context)


async def on_measure(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = get_ctx(context)
    query = update.callback_query
    person = current_person(update, context)
    _, _, target_id, code = query.data.split(":")

    def work():
        with ctx.store.session() as s:
            return reports.toggle_measure(s, int(target_id), person.id, code, clock.now())

    result = await asyncio.to_thread(work)
    with contextlib.suppress(BadRequest):
        await query.answer(result.reply or None, show_alert=result.status in ("not_yours", "unknown"))
    if result.status == "asked":
        await asyncio.to_thread(_send, ctx, update.effective_chat.id, f"callout-ask:{update.update_id}",
                                result.reply, None, person.id)


async def on_submit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = get_ctx(context)
    query = update.callback_query
    person = current_person(update, context)
    target_id = _target_id(query.data)

    def work():
        with ctx.store.session() as s:
            return reports.submit(s, target_id, person.id, clock.now())

    result = await asyncio.to_thread(work)
    with contextlib.suppress(BadRequest):
        await query.answer(result.reply or None, show_alert=result.status in ("empty", "not_yours", "unknown"))
    if result.status == "submitted":
        wake_worker(context)


# ---------------------------------------------------------------------------------------------
# texts and files for the flows and reports
# ---------------------------------------------------------------------------------------------
def attachment_of(update: Update) -> dict | None:
    message = update.message
    if message.photo:
        photo = message.photo[-1]
        return {"kind": "photo", "file_id": photo.file_id, "file_unique_id": photo.file_unique_id,
                "mime": "image/jpeg", "size": photo.file_size, "width": photo.width, "height": photo.height}
    if message.document:
        doc = message.document
        return {"kind": "document", "file_id": doc.file_id, "file_unique_id": doc.file_unique_id,
                "mime": doc.mime_type or "", "size": doc.file_size, "file_name": doc.file_name or "file"}
    return None


async def _stored_document(context: ContextTypes.DEFAULT_TYPE, attachment: dict) -> dict:
    """A warning's document, fetched now and kept under DATA_DIR (the sender sends documents from
    files); photos are re-sent by file id."""
    ctx = get_ctx(context)
    if attachment["kind"] == "photo":
        return {"kind": "photo", "file_id": attachment["file_id"], "filename": "图片"}
    file = await context.bot.get_file(attachment["file_id"])
    data = bytes(await file.download_as_bytearray())
    suffix = Path(attachment.get("file_name") or "").suffix.lower()
    rel = Path("callouts") / f"{hashlib.sha256(data).hexdigest()}{suffix}"
    dest = Path(ctx.settings.data_dir) / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        await asyncio.to_thread(dest.write_bytes, data)
    return {"kind": "document", "path": str(rel), "filename": attachment.get("file_name") or dest.name}


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = get_ctx(context)
    person = current_person(update, context)
    message = update.message
    attachment = attachment_of(update)
    kind = "file" if attachment else "text"
    text = message.text or message.caption or ""

    def who_takes() -> str | None:
        with ctx.store.session() as s:
            return claim(s, person.id, kind)

    owner = await asyncio.to_thread(who_takes)
    if owner == "warn" and attachment is not None:
        if (attachment.get("size") or 0) > MAX_FILE_BYTES:
            await asyncio.to_thread(_send, ctx, message.chat_id, f"warn-file:{update.update_id}",
                                    T.WARN_FILE_TOO_BIG, None, person.id)
            raise ApplicationHandlerStop
        attachment = await _stored_document(context, attachment)

    def work():
        now = clock.now()
        with ctx.store.session() as s:
            who = s.get(Person, person.id)
            if owner == "warn":
                return (warn_flow.on_text(s, ctx.catalog, who, text, now) if kind == "text"
                        else warn_flow.on_file(s, ctx.catalog, who, attachment, now))
            if owner == "campaign":
                return campaigns.on_text(s, ctx.schedule, who, text, now)
            if owner == "report":
                if kind == "file":
                    return reports.add_photo(s, person.id, attachment, now, caption=text)
                return reports.add_text(s, person.id, text, now)
            return None

    reply = await asyncio.to_thread(work)
    if reply is None:
        return  # the state changed since the filter looked: let the other handlers have it
    if owner == "report" and attachment is not None:
        _wake_downloads(context.application)
    body = getattr(reply, "text", None) or getattr(reply, "reply", "")
    if body:
        await asyncio.to_thread(_send, ctx, message.chat_id, f"callout-msg:{update.update_id}", body,
                                getattr(reply, "buttons", None) or None, person.id)
    raise ApplicationHandlerStop


# ---------------------------------------------------------------------------------------------
# /warn, /callout, /lift (office)
# ---------------------------------------------------------------------------------------------
@office_only
async def warn(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    ctx = get_ctx(context)

    def work():
        with ctx.store.session() as s:
            if not ctx.catalog.callouts:
                return None
            return warn_flow.start(s, ctx.catalog, s.get(Person, person.id), clock.now())

    reply = await asyncio.to_thread(work)
    if reply is None:
        await asyncio.to_thread(_send, ctx, update.effective_chat.id, f"warn:{update.update_id}",
                                T.WARN_NO_POLICY.format(level=""), None, person.id)
        return
    await show(update, context, reply, f"warn:{update.update_id}")


@office_only
async def on_warn_step(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    ctx = get_ctx(context)
    query = update.callback_query

    def work():
        with ctx.store.session() as s:
            return warn_flow.on_callback(s, ctx.catalog, s.get(Person, person.id), query.data, clock.now(),
                                            board_chat_id=update.effective_chat.id)

    reply = await asyncio.to_thread(work)
    await show(update, context, reply, f"warn:{update.update_id}")
    if reply.issued is not None:
        wake_worker(context)


def _active_lines(ctx: BotContext) -> tuple[str, list[list[dict]]]:
    with ctx.store.session() as s:
        rows = []
        buttons = []
        for c in callouts.active(s):
            counts = callout_render_counts(s, c.id)
            rows.append(T.LIST_LINE.format(cid=c.id, icon=T.LEVEL_ICONS.get(c.level, ""),
                                           level=T.LEVEL_NAMES.get(c.level, c.level), hazard=c.hazard,
                                           issued=fmt.moment(c.issued_at), **counts))
            buttons.append([outbox.button(T.LIFT_BUTTON.format(cid=c.id, level=T.LEVEL_NAMES.get(c.level, c.level),
                                                               hazard=c.hazard), f"c:lift:{c.id}")])
    if not rows:
        return T.LIST_NONE, []
    return T.LIST_HEADER + "\n" + "\n".join(rows), buttons


def callout_render_counts(session, callout_id: int) -> dict:
    return render.counts(callouts.targets_of(session, callout_id))


@office_only
async def write_summary(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    """/summary <id> <text>: the summary due after 解除 (bot/services/callouts/summary.py)."""
    from bot.services.callouts import summary

    ctx = get_ctx(context)
    parts = (update.effective_message.text or "").split(maxsplit=2)

    def work() -> str:
        callout_id = row_id_of(parts[1]) if len(parts) == 3 else None
        if callout_id is None:
            return T.SUMMARY_USAGE
        with ctx.store.session() as s:
            try:
                c = summary.record(s, callout_id, parts[2], by=person.id, now=clock.now())
            except callouts.CalloutError as e:
                return str(e).split(" / ")[0]
            late = T.SUMMARY_LATE_MARK if summary.state(c, clock.now()) == "late" else ""
            return T.SUMMARY_SAVED.format(cid=c.id, clock=fmt.clock(c.summary_at), late=late)

    text = await asyncio.to_thread(work)
    await asyncio.to_thread(_send, ctx, update.effective_chat.id, f"callout-summary:{update.update_id}", text, None,
                            person.id)


@office_only
async def list_active(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    ctx = get_ctx(context)
    text, _ = await asyncio.to_thread(_active_lines, ctx)
    await asyncio.to_thread(_send, ctx, update.effective_chat.id, f"callout-list:{update.update_id}", text, None,
                            person.id)


@office_only
async def lift_menu(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    ctx = get_ctx(context)
    text, buttons = await asyncio.to_thread(_active_lines, ctx)
    if buttons:
        text = T.LIFT_CHOOSE + "\n\n" + text
    await asyncio.to_thread(_send, ctx, update.effective_chat.id, f"lift:{update.update_id}", text, buttons or None,
                            person.id)


@office_only
async def on_lift(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    ctx = get_ctx(context)
    query = update.callback_query
    parts = query.data.split(":")  # c:lift:<id> | c:lift:y:<id> | c:lift:n
    if parts[2] == "n":
        await show(update, context, warn_flow.Reply(T.LIFT_CANCELLED, edit=True), f"lift:{update.update_id}")
        return
    if parts[2] != "y":
        cid = int(parts[2])
        reply = warn_flow.Reply(T.LIFT_CONFIRM.format(cid=cid),
                                   [[outbox.button(T.LIFT_YES, f"c:lift:y:{cid}"),
                                     outbox.button(T.BTN_CANCEL, "c:lift:n")]], edit=True)
        await show(update, context, reply, f"lift:{update.update_id}")
        return
    cid = int(parts[3])

    def work() -> str:
        with ctx.store.session() as s:
            try:
                callouts.lift(s, cid, now=clock.now(), lifted_by=person.id)
            except callouts.CalloutError as e:
                return str(e).split(" / ")[0]
            return T.LIFT_DONE.format(cid=cid)

    text = await asyncio.to_thread(work)
    await show(update, context, warn_flow.Reply(text, edit=True, toast=text), f"lift:{update.update_id}")
    wake_worker(context)


# ---------------------------------------------------------------------------------------------
# the worker
# ---------------------------------------------------------------------------------------------
def run_tick(ctx: BotContext) -> float:
    """One round of callouts.tick; how long the worker may sleep before the next one (0: at once)."""
    with ctx.store.session() as s:
        report = callouts.tick(s, clock.now())
    if report:
        log.info("callout tick: %d calls, %d escalations, %d nudges, %d board edits",
                 report.calls, report.escalations, report.nudges, report.boards)
    if report.full:
        return 0.0
    if report.next_due is None:
        return TICK_EVERY
    return min(TICK_EVERY, max(0.01, (report.next_due - clock.now()).total_seconds()))


def run_campaign_tick(ctx: BotContext) -> int:
    with ctx.store.session() as s:
        return campaigns.tick(s, ctx.schedule, clock.now())


async def callout_worker(ctx: BotContext, stop: asyncio.Event, *, wake: asyncio.Event | None = None,
                         interval: float = TICK_EVERY, campaign_every: float = CAMPAIGN_EVERY) -> None:
    """Drive every callout from the store until `stop` is set (see the module docstring)."""
    wake = wake or asyncio.Event()
    last_campaign = 0.0
    while not stop.is_set():
        wake.clear()
        pause = interval
        try:
            pause = min(interval, await asyncio.to_thread(run_tick, ctx))
            if time.monotonic() - last_campaign >= campaign_every:
                last_campaign = time.monotonic()
                await asyncio.to_thread(run_campaign_tick, ctx)
        except Exception:  # keep calling: one bad round must not stop a warning
            log.exception("callout worker round failed")
            pause = 1.0
        if pause <= 0:
            continue
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
