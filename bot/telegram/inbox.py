"""The inbox: every update is committed to the store before Telegram is told we have it.

PTB confirms updates before its handlers finish (the next getUpdates offset, or the webhook's
200), so a crash could lose what a leader just sent. Here:

- `Inbox.poll` (long polling) calls getUpdates itself, commits each update to `InboxUpdate`
  (UNIQUE update_id: a duplicate delivery is ignored) and only then advances the offset, which
  Telegram learns with the next getUpdates call.
- `Inbox.accept` does the same for a webhook request, before the HTTP 200 (see `webhook_app`).
- `Inbox.process` feeds stored `new` updates to `Application.process_update` — in order within
  a chat, several chats at once — then marks them `done`; an update whose handlers raise is retried (`MAX_ATTEMPTS`) and then marked
  `failed` with the error kept. On start, rows left unprocessed by a crash are processed first.
- Several processes work one inbox. A row is claimed before it is handled (`claimed_by`,
  `claimed_until`, renewed while the handlers run; on PostgreSQL candidates are read
  `FOR UPDATE SKIP LOCKED` and the UPDATE re-checks), so each update is handled by one process;
  a row whose claim ran out (its process died) is taken again. A row is claimable only when no
  earlier row of its chat (`chat_key`) is still `new`, so a chat's updates stay in order across
  processes. Rows stored by another process are seen within `POLL_EVERY`.

Updates from people who are not bound are refused by bot/telegram/access.py, which calls
`mark_refused`: their row's payload is blanked after processing, so nothing they sent is kept.
An update PTB cannot parse (a newer Bot API shape) never reaches that gate: it is marked `failed`
at once (retrying cannot help), keeping its payload when it comes from a bound person, and only
its update id, sender id and reason when not (`_keep_unreadable`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import traceback
import warnings
from datetime import timedelta

from aiohttp import web
from sqlalchemy import exists, or_
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import select
from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ContextTypes
from telegram.warnings import PTBUserWarning

from bot import clock
from bot.services import people
from bot.store import Store
from bot.store.models import AuditLog, InboxUpdate

log = logging.getLogger(__name__)
# Inbox.poll asks for getUpdates unparsed on purpose (see _get_updates); PTB would warn on every poll.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)

MAX_ATTEMPTS = 3
CLAIM_SECONDS = 10.0  # a claimed row is taken again this long after its process stopped renewing
POLL_EVERY = 0.5  # seconds: how soon rows stored by another process are seen
POLL_TIMEOUT = 10  # seconds a getUpdates long poll may wait
_BATCH = 50

# Errors raised by handlers of the update being processed (PTB hands them to error handlers
# instead of raising them from process_update).
_errors: contextvars.ContextVar[list[BaseException] | None] = contextvars.ContextVar("inbox_errors", default=None)
_refused: contextvars.ContextVar[set[int] | None] = contextvars.ContextVar("inbox_refused", default=None)


def mark_refused(update: Update) -> None:
    """The update came from someone not bound: blank its stored payload once processed."""
    refused = _refused.get()
    if refused is not None:
        refused.add(update.update_id)


async def _record_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    errors = _errors.get()
    if errors is not None and context.error is not None:
        errors.append(context.error)
    if context.error is not None:
        log.error("handler error on update %s", getattr(update, "update_id", "?"),
                  exc_info=(type(context.error), context.error, context.error.__traceback__))


class Inbox:
    def __init__(self, store: Store, application: Application, concurrency: int = 8):
        self.store = store
        self.app = application
        self.concurrency = concurrency
        self.offset: int | None = None
        self._new = asyncio.Event()
        self.processed = 0
        self.idle = asyncio.Event()  # set while nothing is waiting to be processed
        self.holder = "inbox"  # claimed_by; the Runtime sets the process's holder id
        self._claimed: set[int] = set()  # row ids this process is handling
        application.add_error_handler(_record_error)

    # --- storing ----------------------------------------------------------------------------------
    def store_updates(self, payloads: list[dict]) -> int:
        """Commit updates (duplicates ignored); returns how many were new."""
        added = 0
        with self.store.session() as s:
            now = clock.now()
            for payload in payloads:
                update_id = int(payload["update_id"])
                if s.exec(select(InboxUpdate.id).where(InboxUpdate.update_id == update_id)).first() is not None:
                    continue
                try:
                    with s.begin_nested():
                        s.add(InboxUpdate(update_id=update_id, payload=payload, received_at=now,
                                          chat_key=str(chat_key(payload))[:40]))
                        s.flush()
                    added += 1
                except IntegrityError:  # delivered twice at the same moment (webhook retry)
                    pass
        return added

    async def accept(self, payloads: list[dict]) -> int:
        added = await asyncio.to_thread(self.store_updates, payloads)
        if added:
            self.idle.clear()
            self._new.set()
        return added

    # --- long polling -----------------------------------------------------------------------------
    async def poll(self, stop: asyncio.Event) -> None:
        bot = self.app.bot
        backoff = 0.5
        while not stop.is_set():
            try:
                updates = await self._get_updates(bot)
            except InvalidToken:
                log.critical("Telegram refused the bot token; stopping the poller")
                raise
            except (Conflict, NetworkError, TelegramError) as err:
                log.warning("getUpdates failed (%s); retrying in %.1fs", err, backoff)
                await _sleep_unless(stop, backoff)
                backoff = min(backoff * 2, 30)
                continue
            backoff = 0.5
            if not updates:
                continue
            await self.accept(updates)
            # Only now may Telegram forget them: the next call confirms everything below the offset.
            self.offset = max(u["update_id"] for u in updates) + 1

    async def _get_updates(self, bot) -> list[dict]:
        """getUpdates as Telegram's JSON, not parsed: PTB parses the whole batch at once, so one update
        it cannot read (a newer Bot API's shape) would fail every poll and stop the bot; stored raw,
        such an update is kept as failed on its own (see process_row) and the others go on."""
        kwargs = {"timeout": POLL_TIMEOUT, "allowed_updates": list(Update.ALL_TYPES)}
        if self.offset is not None:
            kwargs["offset"] = self.offset
        result = await bot.do_api_request("getUpdates", api_kwargs=kwargs, read_timeout=POLL_TIMEOUT + 10)
        return [u for u in result or [] if isinstance(u, dict) and isinstance(u.get("update_id"), int)]

    # --- processing -------------------------------------------------------------------------------
    def _claim(self, limit: int) -> list[InboxUpdate]:
        """Claim up to `limit` unclaimed `new` rows, each the oldest unfinished row of its chat."""
        if limit <= 0:
            return []
        now = clock.now()
        ready = (InboxUpdate.state == "new") & or_(InboxUpdate.claimed_until.is_(None),  # type: ignore[union-attr]
                                                   InboxUpdate.claimed_until < now)
        earlier = aliased(InboxUpdate)
        blocked = exists().where(earlier.chat_key == InboxUpdate.chat_key, earlier.id < InboxUpdate.id,
                                 earlier.state == "new")
        with self.store.session() as s:
            query = select(InboxUpdate.id).where(ready, ~blocked).order_by(InboxUpdate.id).limit(min(limit, _BATCH))
            if self.store.is_postgres:
                query = query.with_for_update(skip_locked=True, of=InboxUpdate)
            ids = list(s.exec(query))
            if not ids:
                return []
            claimed = list(s.exec(
                sql_update(InboxUpdate).where(InboxUpdate.id.in_(ids), ready)  # type: ignore[union-attr]
                .values(claimed_by=self.holder, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
                .returning(InboxUpdate.id)
            ).scalars())  # type: ignore[call-overload]
            if not claimed:
                return []
            return list(s.exec(select(InboxUpdate).where(InboxUpdate.id.in_(claimed))  # type: ignore[union-attr]
                               .order_by(InboxUpdate.id)))

    def _extend(self, ids: list[int]) -> None:
        until = clock.now() + timedelta(seconds=CLAIM_SECONDS)
        with self.store.session() as s:
            s.exec(sql_update(InboxUpdate).where(InboxUpdate.id.in_(ids), InboxUpdate.claimed_by == self.holder)  # type: ignore[union-attr]
                   .values(claimed_until=until))  # type: ignore[call-overload]

    def _finish(self, row_id: int, **values) -> None:
        with self.store.session() as s:
            s.exec(sql_update(InboxUpdate).where(InboxUpdate.id == row_id, InboxUpdate.claimed_by == self.holder)  # type: ignore[call-overload]
                   .values(**values))

    def _release(self, ids: list[int]) -> None:
        with self.store.session() as s:
            s.exec(sql_update(InboxUpdate).where(InboxUpdate.id.in_(ids), InboxUpdate.claimed_by == self.holder)  # type: ignore[union-attr]
                   .values(claimed_until=None))  # type: ignore[call-overload]

    async def _renew_claims(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await _sleep_unless(stop, CLAIM_SECONDS / 3)
            if self._claimed:
                try:
                    await asyncio.to_thread(self._extend, list(self._claimed))
                except Exception:
                    log.warning("renewing inbox claims failed", exc_info=True)

    async def process(self, stop: asyncio.Event) -> None:
        """Process stored updates until `stop`: backlog first, then as they come; in order within a
        chat, up to `concurrency` chats at once (one leader's slow upload does not hold up others)."""
        running: dict[int, asyncio.Task] = {}  # inbox row id -> its task
        busy: dict[object, int] = {}  # chat key -> row id being processed
        renewer = asyncio.create_task(self._renew_claims(stop), name="inbox-claim-renewal")
        try:
            while not stop.is_set():
                self._new.clear()
                try:
                    rows = await asyncio.to_thread(self._claim, self.concurrency - len(running))
                except Exception:
                    log.exception("claiming inbox rows failed; retrying")
                    await _sleep_unless(stop, 1.0)
                    continue
                started = False
                unused: list[int] = []
                for row in rows:
                    key = chat_key(row.payload)
                    # a busy chat's later rows wait their turn (the claim already keeps them back,
                    # except rows stored before chat_key existed)
                    if len(running) >= self.concurrency or row.id in running or key in busy:
                        unused.append(row.id)
                        continue
                    self._claimed.add(row.id)
                    busy[key] = row.id
                    running[row.id] = asyncio.create_task(self._run(row, key, busy, running),
                                                          name=f"inbox-{row.update_id}")
                    started = True
                if unused:
                    await asyncio.to_thread(self._release, unused)
                if not rows and not running:
                    self.idle.set()
                else:
                    self.idle.clear()
                if not started or len(running) >= self.concurrency:
                    # a finished update sets _new as well; rows stored by other processes: POLL_EVERY
                    await _wait_any(self._new, stop, timeout=POLL_EVERY)
        finally:
            if running:
                await asyncio.wait(list(running.values()), timeout=15)
            renewer.cancel()

    async def _run(self, row: InboxUpdate, key: object, busy: dict, running: dict) -> None:
        try:
            await self.process_row(row)
        finally:
            running.pop(row.id, None)
            self._claimed.discard(row.id)
            if busy.get(key) == row.id:
                del busy[key]
            self._new.set()

    async def process_row(self, row: InboxUpdate) -> None:
        attempts = row.attempts
        while True:
            attempts += 1
            errors: list[BaseException] = []
            refused: set[int] = set()
            t_errors, t_refused = _errors.set(errors), _refused.set(refused)
            try:
                update = Update.de_json(row.payload, self.app.bot)
            except Exception as err:  # not an update this PTB can read: retrying cannot help
                _errors.reset(t_errors)
                _refused.reset(t_refused)
                await asyncio.to_thread(self._keep_unreadable, row, attempts, err)
                return
            try:
                await self.app.process_update(update)
            except Exception as err:  # the payload itself could not be handled
                errors.append(err)
            finally:
                _errors.reset(t_errors)
                _refused.reset(t_refused)
            if not errors:
                values = {"state": "done", "attempts": attempts, "processed_at": clock.now(), "error": None}
                if row.update_id in refused:
                    values["payload"] = {}
                await asyncio.to_thread(self._finish, row.id, **values)
                self.processed += 1
                return
            error = "".join(traceback.format_exception(errors[-1]))[-4000:]
            if attempts >= MAX_ATTEMPTS:
                await asyncio.to_thread(self._finish, row.id, state="failed", attempts=attempts,
                                        processed_at=clock.now(), error=error)
                log.error("update %s failed %d times; kept as failed", row.update_id, attempts)
                return
            await asyncio.to_thread(self._finish, row.id, attempts=attempts, error=error)
            await asyncio.sleep(0.2 * attempts)

    def _keep_unreadable(self, row: InboxUpdate, attempts: int, err: Exception) -> None:
        """Mark an update PTB cannot parse `failed`. A bound person's keeps its payload (nothing a
        leader sent is lost; a newer PTB may read it). Anyone else's is refused as the access gate
        would: only the update id, the sender id and the reason are kept (an audit line and the
        row's error), not the payload, nor the error's text, which may quote it."""
        sender = sender_id(row.payload)
        kind = update_kind(row.payload)
        with self.store.session() as s:
            bound = sender is not None and people.by_telegram(s, sender) is not None
            values = {"state": "failed", "attempts": attempts, "processed_at": clock.now()}
            if bound:
                values["error"] = f"unreadable: {type(err).__name__}: {err}"[:4000]
                log.warning("update %s cannot be read (%s); kept as failed", row.update_id, values["error"])
            else:
                reason = f"unreadable: {type(err).__name__} ({kind})"
                values.update(payload={}, error=f"{reason}; sender {sender} not bound, payload dropped")
                log.warning("update %s: %s", row.update_id, values["error"])
            done = s.exec(sql_update(InboxUpdate)  # type: ignore[call-overload]
                          .where(InboxUpdate.id == row.id, InboxUpdate.claimed_by == self.holder).values(**values))
            if done.rowcount and not bound:  # the refusal, audited as the access gate audits its own
                s.add(AuditLog(at=clock.now(), actor_telegram_id=sender, action="refused_unbound",
                               detail={"update": kind, "update_id": row.update_id, "reason": reason}))

def update_kind(payload: dict) -> str:
    """The update's kind ("message", "poll_answer", …): its first key besides update_id."""
    return next((str(k)[:40] for k in payload if k != "update_id"), "other")


def sender_id(payload: dict) -> int | None:
    """The Telegram user an update (even one PTB cannot parse) comes from, if it names one:
    `from` (messages, callbacks, queries) or `user` (poll answers, reactions)."""
    for kind, body in payload.items():
        if kind == "update_id" or not isinstance(body, dict):
            continue
        for key in ("from", "user"):
            who = body.get(key)
            uid = who.get("id") if isinstance(who, dict) else None
            if type(uid) is int and abs(uid) < 2**63:  # a BIGINT, as Telegram's ids are
                return uid
    return None


def chat_key(payload: dict) -> object:
    """Updates with the same key are processed in order: the chat (or user) they come from."""
    for kind, body in payload.items():
        if kind == "update_id" or not isinstance(body, dict):
            continue
        chat = body.get("chat") or (body.get("message") or {}).get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return chat["id"]
        sender = body.get("from")
        if isinstance(sender, dict) and "id" in sender:
            return sender["id"]
    return "other"


# --- webhook --------------------------------------------------------------------------------------
def webhook_app(inbox: Inbox, path: str, secret: str) -> web.Application:
    """An aiohttp app answering Telegram's webhook POSTs: 200 only after the update is committed."""

    async def receive(request: web.Request) -> web.Response:
        if secret and request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
            return web.Response(status=403, text="forbidden")
        try:
            payload = await request.json()
            int(payload["update_id"])
        except Exception:
            return web.Response(status=400, text="bad update")
        try:
            await inbox.accept([payload])
        except Exception:
            log.exception("could not store webhook update; Telegram will retry")
            return web.Response(status=500, text="retry")
        return web.Response(status=200, text="ok")

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_post(path or "/", receive)
    return app


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _wait_any(*events: asyncio.Event, timeout: float | None = None) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()

