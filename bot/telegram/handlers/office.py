"""The safety office's views: /overdue [unit], /nudge [unit] (one tap to confirm), /stats.

Only people with `office: true` may use them; anyone else gets a polite refusal
(access.require_office).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib

from sqlmodel import Session, select
from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot import clock
from bot.services import outbox, status
from bot.store.models import Outbox, Person, Unit
from bot.telegram.access import office_only
from bot.telegram.context import get_ctx
from bot.texts import fmt
from bot.texts import office as T

COMMANDS: list[tuple[str, str]] = []
OFFICE_COMMANDS = [("overdue", T.COMMAND_OVERDUE), ("nudge", T.COMMAND_NUDGE), ("stats", T.COMMAND_STATS)]
ALL_UNITS = "*"


def register(app: Application) -> None:
    app.add_handler(CommandHandler("overdue", overdue))
    app.add_handler(CommandHandler("nudge", nudge))
    app.add_handler(CommandHandler("stats", stats))
    app.add_handler(CallbackQueryHandler(on_tap, pattern=r"^o:"))


def _send(session: Session, chat_id: int, key: str, bodies: list[str], person_id: str,
          buttons: outbox.Buttons | None = None) -> None:
    for n, body in enumerate(bodies):
        last = n == len(bodies) - 1
        outbox.enqueue(session, chat_id=chat_id, payload=outbox.text(body, buttons if last else None),
                       dedupe_key=f"{key}:{n}", priority=outbox.INTERACTIVE, person_id=person_id)


def _unit(session: Session, args: list[str]) -> tuple[Unit | None, str | None]:
    """The unit named in the command's arguments; an explanation when it names none or several."""
    if not args:
        return None, None
    text = " ".join(args)
    found = status.find_unit(session, text)
    if isinstance(found, Unit):
        return found, None
    units = list(session.exec(select(Unit).where(Unit.retired_at.is_(None))))  # type: ignore[union-attr]
    if isinstance(found, list):
        return None, T.UNIT_AMBIGUOUS.format(text=text, units="、".join(u.name for u in found))
    return None, T.UNIT_UNKNOWN.format(text=text, units="、".join(u.name for u in units))


@office_only
async def overdue(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    ctx = get_ctx(context)
    chat_id = update.effective_chat.id

    def work() -> None:
        now = clock.now()
        with ctx.store.session() as s:
            unit, problem = _unit(s, context.args or [])
            if problem:
                bodies = [problem]
            else:
                rows = status.not_reported(s, now, unit.id if unit else None)
                bodies = status.overdue_messages(rows, now, ctx.schedule.tz, unit)
            _send(s, chat_id, f"overdue:{update.update_id}", bodies, person.id)

    await asyncio.to_thread(work)


@office_only
async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    ctx = get_ctx(context)
    chat_id = update.effective_chat.id

    def work() -> None:
        now = clock.now()
        with ctx.store.session() as s:
            bodies = status.stats_message(status.current_stats(s, now), now, ctx.schedule.tz)
            _send(s, chat_id, f"stats:{update.update_id}", bodies, person.id)

    await asyncio.to_thread(work)


# -- 一键催报 ----------------------------------------------------------------------------------------
def _unit_token(unit_id: str | None) -> str:
    """The unit in callback data (64 bytes at most): its id, or a short hash of a long one."""
    if unit_id is None:
        return ALL_UNITS
    if len(f"o:nudge:{unit_id}".encode()) <= 64:
        return unit_id
    return "#" + hashlib.sha256(unit_id.encode()).hexdigest()[:16]


def _unit_from_token(session: Session, token: str) -> tuple[bool, str | None]:
    """(found, unit id or None for every unit)."""
    if token == ALL_UNITS:
        return True, None
    for unit in session.exec(select(Unit)):
        if token in (unit.id, _unit_token(unit.id)):
            return True, unit.id
    return False, None


@office_only
async def nudge(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    ctx = get_ctx(context)
    chat_id = update.effective_chat.id

    def work() -> None:
        now = clock.now()
        with ctx.store.session() as s:
            unit, problem = _unit(s, context.args or [])
            if problem:
                _send(s, chat_id, f"nudge:{update.update_id}", [problem], person.id)
                return
            rows = [r for r in status.not_reported(s, now, unit.id if unit else None) if r.telegram_id is not None]
            if not rows:
                _send(s, chat_id, f"nudge:{update.update_id}", [T.NUDGE_NOBODY], person.id)
                return
            body = T.NUDGE_CONFIRM.format(people=len({r.person_id for r in rows}), count=len(rows),
                                          scope=T.NUDGE_SCOPE_UNIT.format(unit=unit.name) if unit else "")
            buttons = [[outbox.button(T.BTN_NUDGE, f"o:nudge:{_unit_token(unit.id if unit else None)}"),
                        outbox.button(T.BTN_CANCEL, "o:nonudge")]]
            _send(s, chat_id, f"nudge:{update.update_id}", [body], person.id, buttons)

    await asyncio.to_thread(work)


def _close_prompt(session: Session, chat_id: int, message_id: int | None, body: str, person_id: str) -> None:
    """Replace the confirmation's buttons by the outcome, so it cannot be tapped twice (or say the
    outcome in a new message when that confirmation is not ours to edit)."""
    row = None
    if message_id is not None:
        row = session.exec(select(Outbox).where(Outbox.chat_id == chat_id, Outbox.tg_message_id == message_id)).first()
    if row is not None:
        outbox.enqueue(session, chat_id=chat_id, payload=outbox.edit(row.id, body, []),
                       dedupe_key=f"o:closed:{row.id}", priority=outbox.INTERACTIVE, person_id=person_id)
    else:
        outbox.enqueue(session, chat_id=chat_id, payload=outbox.text(body),
                       dedupe_key=f"o:result:{chat_id}:{message_id}", priority=outbox.INTERACTIVE, person_id=person_id)


@office_only
async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person) -> None:
    query = update.callback_query
    ctx = get_ctx(context)
    chat_id = query.message.chat.id if query.message else person.telegram_id
    message_id = query.message.message_id if query.message else None
    data = query.data or ""

    def work() -> str:
        now = clock.now()
        with ctx.store.session() as s:
            if data == "o:nonudge":
                _close_prompt(s, chat_id, message_id, T.NUDGE_CANCELLED, person.id)
                return T.NUDGE_CANCELLED_TOAST
            if data.startswith("o:nudge:"):
                found, unit_id = _unit_from_token(s, data[len("o:nudge:"):])
                if not found:
                    return T.NUDGE_NOBODY
                done = status.nudge(s, now, ctx.schedule, unit_id=unit_id, by=person.id)
                body = T.NUDGE_DONE.format(
                    queued=done.queued,
                    already=T.NUDGE_ALREADY.format(already=done.already) if done.already else "",
                    unbound=T.NUDGE_UNBOUND.format(unbound=done.unbound) if done.unbound else "",
                    later=T.NUDGE_LATER.format(when=fmt.moment(done.send_at, ctx.schedule.tz))
                    if done.queued and done.send_at and done.send_at > now else "")
                _close_prompt(s, chat_id, message_id, body, person.id)
                return T.NUDGE_TOAST.format(queued=done.queued)
        return T.NUDGE_NOBODY

    toast = await asyncio.to_thread(work)
    with contextlib.suppress(BadRequest):
        await query.answer(toast[:200])
