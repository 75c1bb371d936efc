"""Who may use the bot: only Telegram users bound to an active Person.

`install(app)` adds a TypeHandler in group -1 that runs before every other handler. An update from
a user who is not bound gets a short polite refusal (private chats only; a callback gets an alert)
and `ApplicationHandlerStop`, except `/start <token>`, which binding.py handles. Nothing such a user
sent is kept: one AuditLog line (no text, no files), and the inbox blanks the update's payload.
Refusals go through the outbox with a per-user hourly dedupe key, so a stranger cannot make the
bot spam.

Helpers for handlers:
- `current_person(update, context) -> Person` (the bound person; access already guaranteed it)
- `await require_office(update, context) -> Person | None` (None after telling a non-office user)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from collections.abc import Awaitable, Callable

from sqlmodel import Session
from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot import clock
from bot.services import outbox, people
from bot.store.models import MAX_ROW_ID, AuditLog, Person
from bot.telegram.context import get_ctx
from bot.telegram.inbox import mark_refused
from bot.texts import common as T

START_WITH_TOKEN = re.compile(r"^/start(@\w+)?\s+\S+")


class NotBound(Exception):
    """current_person() for an update without a bound user (access should have stopped it)."""


def install(app: Application) -> None:
    app.add_handler(TypeHandler(Update, _gate), group=-1)


def _lookup(ctx, telegram_id: int) -> Person | None:
    with ctx.store.session() as s:
        return people.by_telegram(s, telegram_id)


async def _gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    if user is None:  # channel posts, polls…: nobody to answer, nothing to keep
        mark_refused(update)
        raise ApplicationHandlerStop
    ctx = get_ctx(context)
    person = await asyncio.to_thread(_lookup, ctx, user.id)
    if person is not None:
        if update.callback_query is not None and not plausible_data(update.callback_query.data):
            await refuse_button(update, ctx, person.id, "refused_callback_data")
            raise ApplicationHandlerStop
        _remember(context, update, person)
        return
    message = update.effective_message
    if update.message and message and message.text and START_WITH_TOKEN.match(message.text):
        return  # binding.py redeems the invite
    mark_refused(update)
    await asyncio.to_thread(_refuse, ctx, update)
    if update.callback_query is not None:
        with contextlib.suppress(Exception):  # an old query: nothing to answer, the refusal is logged anyway
            await update.callback_query.answer(T.NOT_BOUND_ALERT, show_alert=True)
    raise ApplicationHandlerStop


MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback_data
FREE_TOKENS = ("o:",)  # data whose fields are not row ids: o:nudge:<a unit's own id, any text>


def plausible_data(data: str | None) -> bool:
    """Callback data our buttons could carry: at most 64 bytes, every numeric field (fields are
    separated by ":") a possible row id. Anything else comes from a modified client (or garbage) and
    reaches no handler."""
    if not data or len(data.encode("utf-8", "surrogatepass")) > MAX_CALLBACK_BYTES:
        return False
    if data.startswith(FREE_TOKENS):
        return True
    if any(c.isdigit() and not c.isascii() for c in data):  # "²": isdigit() in a handler, then int() fails
        return False
    return all(abs(n) <= MAX_ROW_ID for n in map(_as_int, data.split(":")) if n is not None)


def _as_int(field: str) -> int | None:
    """The field as the handlers' int() reads it (which takes "-5", " 5", "5_0" and "５" too)."""
    try:
        return int(field)
    except ValueError:
        return None


async def refuse_button(update: Update, ctx, person_id: str | None, action: str) -> None:
    """Answer a button press no handler takes (stale or forged): the user's spinner stops with a
    short notice, and the press is audited."""
    query = update.callback_query
    user = update.effective_user

    def audit() -> None:
        with ctx.store.session() as s:
            s.add(AuditLog(at=clock.now(), actor_telegram_id=user.id if user else None, person_id=person_id,
                           action=action, detail={"data": (query.data or "")[:80]}))

    await asyncio.to_thread(audit)
    with contextlib.suppress(Exception):  # an old query: nothing to answer, the refusal is logged anyway
        await query.answer(T.BUTTON_STALE, show_alert=True)


def _refuse(ctx, update: Update) -> None:
    user = update.effective_user
    chat = update.effective_chat
    now = clock.now()
    with ctx.store.session() as s:
        s.add(AuditLog(at=now, actor_telegram_id=user.id, action="refused_unbound",
                       detail={"update": _kind(update), "chat_type": chat.type if chat else None}))
        # Answer what a person sent in a private chat; not membership changes (a block) and the like.
        if chat is not None and chat.type == "private" and (update.message or update.edited_message):
            hour = now.strftime("%Y%m%d%H")
            outbox.enqueue(s, chat_id=chat.id, payload=outbox.text(T.NOT_BOUND),
                           dedupe_key=f"refuse:{user.id}:{hour}", priority=outbox.INTERACTIVE)


def _kind(update: Update) -> str:
    for name in ("message", "edited_message", "callback_query", "my_chat_member", "chat_member",
                 "inline_query", "channel_post"):
        if getattr(update, name, None) is not None:
            return name
    return "other"


_CACHE_KEY = "_access_people"
_CACHE_SIZE = 1000


def _remember(context: ContextTypes.DEFAULT_TYPE, update: Update, person: Person) -> None:
    """The gate's lookup, kept for this update's handlers (per application, a bounded dict)."""
    cache: dict[int, Person] = context.application.bot_data.setdefault(_CACHE_KEY, {})
    cache[update.update_id] = person
    if len(cache) > _CACHE_SIZE:
        for key in list(cache)[: _CACHE_SIZE // 2]:
            cache.pop(key, None)


def current_person(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Person:
    """The active Person bound to the update's user (looked up by the access gate)."""
    person = context.application.bot_data.get(_CACHE_KEY, {}).get(update.update_id)
    if person is not None:
        return person
    user = update.effective_user
    if user is None:
        raise NotBound("update without a user")
    with get_ctx(context).store.session() as s:
        person = people.by_telegram(s, user.id)
    if person is None:
        raise NotBound(f"telegram user {user.id} is not bound")
    return person


def person_in(session: Session, update: Update) -> Person | None:
    """The bound person, attached to `session` (for handlers that change the row)."""
    user = update.effective_user
    return people.by_telegram(session, user.id) if user else None


async def require_office(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Person | None:
    """The current person if they belong to the office; otherwise tells them and returns None."""
    person = current_person(update, context)
    if person.is_office:
        return person
    ctx = get_ctx(context)
    chat = update.effective_chat
    if update.callback_query is not None:
        await update.callback_query.answer(T.OFFICE_ONLY, show_alert=True)
    elif chat is not None:
        def queue() -> None:
            with ctx.store.session() as s:
                outbox.enqueue(s, chat_id=chat.id, payload=outbox.text(T.OFFICE_ONLY),
                               dedupe_key=f"office-only:{update.update_id}", priority=outbox.INTERACTIVE,
                               person_id=person.id)
        await asyncio.to_thread(queue)
    return None


def office_only(handler: Callable[[Update, ContextTypes.DEFAULT_TYPE, Person], Awaitable[None]]):
    """For handlers only the office may use: anyone else is refused (see require_office); the
    handler gets the office member as a third argument."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        person = await require_office(update, context)
        if person is not None:
            await handler(update, context, person)

    return guarded
