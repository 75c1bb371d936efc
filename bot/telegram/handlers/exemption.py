"""免考核 requests from Telegram.

Leader: the reminder's 申请免考核 button (`x:ask:<instance id>`) → kind buttons (`x:k:<instance id|0>:<n>`)
→ the next text message gives reason and dates (a draft in the store, so a restart in between
loses nothing) → filed. Or in one go: `/leave 出差 6月3日-6月5日 赴省厅参加培训` (`/leave` alone
shows the kind buttons). `x:cancel` drops the draft.

Office: 批准 `x:ok:<id>` / 驳回 `x:no:<id>`, one tap; the first tap decides, the others' buttons
close with the decision (bot/services/exemptions.py).
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlmodel import select
from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import clock
from bot.services import exemptions, outbox
from bot.services.exemptions import ExemptionError
from bot.store.models import Duty, DutyInstance, Exemption, Person
from bot.telegram.access import current_person, require_office
from bot.telegram.context import get_ctx
from bot.texts import assessment as T
from bot.texts import fmt

ORDER = 40  # before the check-in catch-all (95): a draft's text is the request, not a check-in
COMMANDS = [("leave", T.COMMAND_LEAVE)]


def register(app: Application) -> None:
    app.add_handler(CommandHandler("leave", leave))
    app.add_handler(CallbackQueryHandler(on_tap, pattern=r"^x:"))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND & DraftOpen(app),
                                   on_text))


class DraftOpen(filters.MessageFilter):
    """Matches a leader's text while they have an exemption draft waiting for reason and dates."""

    def __init__(self, app: Application):
        super().__init__(name="exemption_draft_open")
        self.app = app

    def filter(self, message: Message) -> bool:
        user = message.from_user
        ctx = self.app.bot_data.get("ctx")
        if user is None or ctx is None:
            return False
        with ctx.store.session() as s:  # one indexed lookup; only for text in private chats
            person = s.exec(select(Person.id).where(Person.telegram_id == user.id)).first()
            return person is not None and exemptions.open_draft(s, person, clock.now()) is not None


def _send(session, chat_id: int, key: str, body: str, person_id: str, buttons: outbox.Buttons | None = None) -> None:
    outbox.enqueue(session, chat_id=chat_id, payload=outbox.text(body, buttons), dedupe_key=key,
                   priority=outbox.INTERACTIVE, person_id=person_id)


def kind_buttons(instance_id: int | None) -> outbox.Buttons:
    iid = instance_id or 0
    return [[outbox.button(kind, f"x:k:{iid}:{n}") for n, kind in enumerate(T.KINDS)],
            [outbox.button(T.CANCEL_BUTTON, "x:cancel")]]


def _item(session, inst: DutyInstance | None, template: str) -> tuple[str, str, str]:
    if inst is None:
        return "", "", ""
    duty = session.get(Duty, inst.duty_id)
    title = duty.title if duty else inst.duty_id
    period = fmt.period(inst.period_key)
    return template.format(title=title, period=period), title, period


# -- the leader --------------------------------------------------------------------------------------
async def leave(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = get_ctx(context)
    person = current_person(update, context)
    chat_id = update.effective_chat.id
    args = context.args or []
    key = f"x:leave:{update.update_id}"

    def work() -> None:
        now = clock.now()
        with ctx.store.session() as s:
            if not args:
                _send(s, chat_id, key, T.EXEMPT_CHOOSE_KIND.format(item=""), person.id, kind_buttons(None))
                return
            kind, text = args[0], " ".join(args[1:])
            try:
                with s.begin_nested():
                    row = exemptions.submit(s, person.id, kind, text, now, tz=ctx.schedule.tz)
            except ExemptionError as e:
                _send(s, chat_id, key, f"{e}\n\n{T.EXEMPT_USAGE}", person.id)
                return
            exemptions.ask_office(s, row, ctx.schedule.tz)

    await asyncio.to_thread(work)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = get_ctx(context)
    person = current_person(update, context)
    chat_id = update.effective_chat.id
    text = update.message.text or ""

    def work() -> None:
        now = clock.now()
        with ctx.store.session() as s:
            draft = exemptions.open_draft(s, person.id, now)
            if draft is None:  # expired between the filter and here: say so rather than lose the text
                _send(s, chat_id, f"x:text:{update.update_id}", T.EXEMPT_CANCELLED, person.id)
                return
            try:
                with s.begin_nested():
                    row = exemptions.submit(s, person.id, draft.reason_kind, text, now, tz=ctx.schedule.tz,
                                            instance_id=draft.instance_id, draft=draft)
            except ExemptionError as e:  # the draft stays open: the leader corrects and sends again
                _send(s, chat_id, f"x:text:{update.update_id}", str(e), person.id,
                      [[outbox.button(T.CANCEL_BUTTON, "x:cancel")]])
                return
            exemptions.ask_office(s, row, ctx.schedule.tz)

    await asyncio.to_thread(work)


def _ask(s, person, chat_id: int, key: str, instance_id: int) -> str:
    inst = exemptions.own_instance(s, person.id, instance_id)
    item, _, _ = _item(s, inst, T.EXEMPT_FOR_ITEM)
    _send(s, chat_id, key, T.EXEMPT_CHOOSE_KIND.format(item=item), person.id, kind_buttons(instance_id))
    return ""


def _kind(s, person, chat_id: int, key: str, instance_id: int, n: int, now) -> str:
    if not 0 <= n < len(T.KINDS):
        raise ExemptionError(T.ERR_KIND)
    inst = exemptions.own_instance(s, person.id, instance_id) if instance_id else None
    exemptions.start_draft(s, person.id, T.KINDS[n], now, inst.id if inst else None)
    _, title, period = _item(s, inst, "")
    hint = T.EXEMPT_HINT_ITEM.format(title=title, period=period) if inst else T.EXEMPT_HINT_DATES
    _send(s, chat_id, key, T.EXEMPT_ASK_DETAILS.format(kind=T.KINDS[n], hint=hint), person.id,
          [[outbox.button(T.CANCEL_BUTTON, "x:cancel")]])
    return T.KINDS[n]


async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    parts = (query.data or "").split(":")
    action = parts[1] if len(parts) > 1 else ""
    if action in ("ok", "no"):
        await decide(update, context, parts)
        return
    ctx = get_ctx(context)
    person = current_person(update, context)
    chat_id = query.message.chat.id if query.message else person.telegram_id
    key = f"x:tap:{query.id}"

    def work() -> str:
        now = clock.now()
        try:
            numbers = [int(p) for p in parts[2:]]
            with ctx.store.session() as s:
                if action == "ask" and len(numbers) == 1:
                    return _ask(s, person, chat_id, key, numbers[0])
                if action == "k" and len(numbers) == 2:
                    return _kind(s, person, chat_id, key, numbers[0], numbers[1], now)
                if action == "cancel":
                    exemptions.drop_drafts(s, person.id)
                    _send(s, chat_id, key, T.EXEMPT_CANCELLED, person.id)
                    return ""
        except (ValueError, ExemptionError) as e:
            return str(e) if isinstance(e, ExemptionError) else T.EXEMPT_NOT_FOUND
        return T.EXEMPT_NOT_FOUND

    toast = await asyncio.to_thread(work)
    with contextlib.suppress(BadRequest):
        await query.answer(toast[:200] or None)


# -- the office ----------------------------------------------------------------------------------------
async def decide(update: Update, context: ContextTypes.DEFAULT_TYPE, parts: list[str]) -> None:
    query = update.callback_query
    approver = await require_office(update, context)
    if approver is None:
        return
    ctx = get_ctx(context)

    def work() -> tuple[str, bool]:
        """(answer, shown as an alert: something the office member did not expect)."""
        try:
            exemption_id = int(parts[2])
        except (IndexError, ValueError):
            return T.EXEMPT_NOT_FOUND, True
        with ctx.store.session() as s:
            try:
                d = exemptions.decide(s, exemption_id, approver, parts[1] == "ok", clock.now(), tz=ctx.schedule.tz)
            except ExemptionError as e:
                return str(e), True
            ex: Exemption = d.exemption
            verdict = T.VERDICT.get(ex.state, ex.state)
            if d.decided_now:
                return T.EXEMPT_DONE_ANSWER.format(verdict=verdict), False
            by = s.get(Person, ex.decided_by) if ex.decided_by else None
            return T.EXEMPT_ALREADY.format(by=by.name if by else "", verdict=verdict), True

    toast, alert = await asyncio.to_thread(work)
    with contextlib.suppress(BadRequest):
        await query.answer(toast[:200], show_alert=alert)
