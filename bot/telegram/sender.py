"""The outbox sender: the one drainer of `Outbox`, within Telegram's limits, losing nothing.

How it works
- Claim: rows that are `pending` and due (`not_before <= now`), or `sending` with an expired lease
  (a crashed process), are claimed lowest priority number first, then oldest (so a 叫应 row jumps
  ahead of a thousand routine ones), at most one per chat at a time (FIFO per chat), skipping
  chats that are busy or held back. Claiming sets `state=sending` and a lease (`claimed_until`);
  on PostgreSQL candidates are read `FOR UPDATE SKIP LOCKED`, and the UPDATE re-checks the state
  (`RETURNING id`), so two senders never claim the same row. The lease of claimed rows is
  renewed while this process holds them; a dead process's rows are taken again when it runs out.
- Pace: sends start evenly spaced at `global_rate` per second (a little under Telegram's 30/s so
  network jitter does not push a window over), at most one per `chat_interval` per private chat
  and one per `group_interval` per group (20/min). Up to `max_in_flight` rows are claimed ahead.
- At most one repeat per crash: a message Telegram accepted but the store does not yet know as
  sent goes out again after a SIGKILL (Telegram has no idempotency key). So an ordinary row's
  request starts only once the previous ordinary row's outcome is committed (`ordinary_in_flight`
  = 1: request, answer, commit of `sent`, then the next request; the commit is retried until it
  holds, the row's claim renewed meanwhile): at any moment at most one message is accepted-but-
  unrecorded. The cost is the round trip: the rate is min(`global_rate`, 1 / (Telegram's answer
  time + one commit)), 30/s while that is under ~33 ms (the sandbox, a server near Telegram's);
  a larger `ordinary_in_flight` (OUTBOX_IN_FLIGHT) buys rate back at up to that many repeats per
  crash. Paid-broadcast rows are not held to this (below).
- Errors: 429 holds back that chat only, for `retry_after` (PTB's AIORateLimiter pauses every
  send), and anything less urgent than the refused message until it may be retried (otherwise
  routine rows to other chats would take the slots a waiting 叫应 call needs); 5xx, timeouts and network errors are retried with exponential backoff, forever (a row is
  never dropped); permanent refusals (400 Bad Request, 403 blocked by the user) mark the row
  `failed` with the error kept. Edits wait until the message they edit has been sent.
- Wake-up: a commit that added Outbox rows in this process wakes the sender at once (a
  SQLAlchemy session hook); rows queued by other processes are seen within `poll_interval`.
- Several processes: every process runs a sender, but it claims and sends only while
  `may_send()` (the Runtime gives it `Leadership.is_leader`): Telegram's limits are per bot, and
  one pacer in one process is the simplest budget that cannot be exceeded (README, "Several
  processes"). Claims carry `claimed_by` (this process): finishing or renewing a row that another
  process has claimed since (our claim ran out while we were paused) changes nothing. A sender
  that stops leading gives its claimed-but-unsent rows back; a new leader waits until the last
  send recorded is one group interval old, so the old leader's last sends still count against the
  limits (after a crash the lease has long run out; after a graceful hand-over it is ~1 s).

Paid broadcast: with `paid_broadcast=True` (TELEGRAM_PAID_BROADCAST=1), rows whose payload has
`"broadcast": true` (a red warning's calls) go out with allow_paid_broadcast, paced by their own
`paid_rate` (Telegram allows up to 1,000 such messages a second, paid in Stars) instead of
`global_rate`; every other row keeps the ordinary pace. Without it the marker is ignored. At that
rate the sender's CPU per message is the limit (~0.7 ms is needed for 10,000 in ≤ 15 s on a shared
core; it was 4 ms), so this lane, and only it: sends through `Bot.do_api_request(...,
return_type=None)` (`_deliver_paid`: no Message parsed, no markup objects built); records its sent
rows in one commit every `record_every` (50 ms), the rows leaving the in-flight slots meanwhile but
staying held and leased (`_recording`), so a kill repeats at most the requests in flight plus one
batch; is paced at `paid_rate` (940/s) with up to `paid_burst` (10) starts made up when the loop
woke late (≤ 950 in any second, against Telegram's 1,000); and is claimed up to `claim_batch` (128)
rows at a time, other rows never more than `ordinary_batch` (16) a claim. For every row, the claim
reads candidates in the index's (priority, id) order (ix_outbox_claim) and claims them with one
UPDATE … RETURNING. bench/RESULTS.md, issue 14, has the measurements behind each of these.

Payloads: see bot/services/outbox.py. One extension: `"if_open": <DutyInstance id>` skips the
message (state `skipped`) when that instance is no longer open or already has enough check-ins by
the time it would go out (a reminder queued behind a backlog, or a snoozed one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, event, or_, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import select
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBUserWarning

from bot import clock
from bot.store import Store
from bot.store.models import DutyInstance, Outbox

log = logging.getLogger(__name__)
# The paid lane calls sendMessage through do_api_request on purpose (_deliver_paid); PTB would warn each time.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)

# ------------------------------------------------------------------------------------------------
# wake-up on commit
# ------------------------------------------------------------------------------------------------
_listeners: list[Callable[[], None]] = []
_listeners_lock = threading.Lock()


def add_enqueue_listener(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` (from any thread) after a commit that added Outbox rows; returns the remover."""
    with _listeners_lock:
        _listeners.append(callback)

    def remove() -> None:
        with _listeners_lock:
            if callback in _listeners:
                _listeners.remove(callback)

    return remove


def notify_enqueued() -> None:
    """For code that inserts Outbox rows with Core statements (the ORM hook does not see those)."""
    with _listeners_lock:
        callbacks = list(_listeners)
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a closed loop of a stopped sender: harmless
            log.debug("enqueue listener failed", exc_info=True)


@event.listens_for(OrmSession, "after_flush")
def _mark_outbox(session: OrmSession, _ctx: Any) -> None:
    if any(isinstance(obj, Outbox) for obj in session.new):
        session.info["outbox_added"] = True


@event.listens_for(OrmSession, "after_commit")
def _wake_after_commit(session: OrmSession) -> None:
    # SQLAlchemy also calls this when a SAVEPOINT is released (outbox.enqueue uses one): the row
    # is visible to the sender only once the outermost transaction commits.
    if session.get_nested_transaction() is not None:
        return
    if session.info.pop("outbox_added", False):
        notify_enqueued()


@event.listens_for(OrmSession, "after_rollback")
def _forget_on_rollback(session: OrmSession) -> None:
    if session.get_nested_transaction() is None:
        session.info.pop("outbox_added", None)


# ------------------------------------------------------------------------------------------------
# the sender
# ------------------------------------------------------------------------------------------------
@dataclass
class SenderStats:
    sent: int = 0
    rate_limited: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    first_send: float | None = None
    last_send: float | None = None
    by_error: dict[str, int] = field(default_factory=dict)


@dataclass
class _Claimed:
    id: int
    chat_id: int
    payload: dict
    attempts: int
    priority: int = 50


class _Pacer:
    """Evenly spaced send starts: at most `rate` per second. With `burst` (the paid lane), starts the
    loop made late are made up, up to `burst` of them at once: at ~1 ms apart a busy event loop wakes
    every sleep a little late, and without it that lateness was lost (730 starts a second instead of
    990 on a loaded machine). Any one-second window still sees at most rate + burst starts."""

    def __init__(self, rate: float, burst: int = 0):
        self.interval = 1.0 / rate
        self.slack = burst * self.interval
        self.next_at = 0.0

    async def acquire(self) -> None:
        now = time.monotonic()
        at = max(now - self.slack, self.next_at)
        self.next_at = at + self.interval
        if at > now:
            await asyncio.sleep(at - now)


class Sender:
    def __init__(self, store: Store, bot: Bot, *, data_dir: Path | str = "data", global_rate: float = 29.6,
                 chat_interval: float = 1.05, group_interval: float = 3.1, max_in_flight: int = 32,
                 lease: float = 4.0, poll_interval: float = 0.5, max_backoff: float = 300.0,
                 paid_broadcast: bool = False, paid_rate: float = 940.0, paid_burst: int = 10, claim_batch: int = 16,
                 ordinary_batch: int = 16, record_every: float = 0.05, ordinary_in_flight: int = 1):
        self.store = store
        self.bot = bot
        self.data_dir = Path(data_dir)
        self.pacer = _Pacer(global_rate)
        self.paid_broadcast = paid_broadcast
        self.paid_pacer = _Pacer(paid_rate, paid_burst)  # ≤ 950 starts in any second: Telegram allows 1,000 (arrivals jitter by ~20)
        self.claim_batch = claim_batch
        # Rows other than paid-broadcast ones claimed at once, whatever claim_batch: at 30/s they are
        # paced out one by one, and a 叫应 queued meanwhile waits for the claimed ones.
        self.ordinary_batch = min(ordinary_batch, claim_batch)
        self.chat_interval = chat_interval
        self.group_interval = group_interval
        self.max_in_flight = max_in_flight
        self.ordinary_in_flight = max(1, ordinary_in_flight)
        self._ordinary: set[asyncio.Task] = set()  # ordinary sends whose outcome is not yet committed
        self.lease = lease
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.stats = SenderStats()
        self._ready_at: dict[int, float] = {}  # chat -> monotonic time it may be sent to again
        self._urgent: dict[int, float] = {}  # priority refused by a 429 -> until: nothing less urgent before
        self._in_flight: dict[int, int] = {}  # outbox id -> chat id
        self._tasks: set[asyncio.Task] = set()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._remove_listener: Callable[[], None] | None = None
        self._sent_batch: list[dict] = []  # paid rows Telegram accepted, to be recorded as sent
        self._recording: dict[int, int] = {}  # their outbox id -> chat id, until that commit holds
        self.record_every = record_every
        self._committer: asyncio.Task | None = None
        self.may_send: Callable[[], bool] = lambda: True
        self.holder = "sender"  # claimed_by; the Runtime sets the process's holder id
        self._sending = False  # may_send() at the last look

    # --- public ---------------------------------------------------------------------------------
    def wake(self) -> None:
        """Thread-safe: look at the outbox now."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing
            loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._remove_listener = add_enqueue_listener(self.wake)
        renewer = asyncio.create_task(self._renew_leases(stop), name="outbox-lease-renewal")
        try:
            await self._drain(stop)
        finally:
            renewer.cancel()
            if self._remove_listener:
                self._remove_listener()
            await self._finish_in_flight()

    # --- the loop -------------------------------------------------------------------------------
    async def _drain(self, stop: asyncio.Event) -> None:
        # The next batch is claimed while the current one is paced out, so the database round
        # trip never leaves a gap in the sending rate.
        pending: asyncio.Task | None = None
        try:
            while not stop.is_set():
                claimed = await (pending or self._start_claim())
                pending = None
                if claimed is None:  # the database failed; say so and try again shortly
                    await self._idle(stop, 1.0)
                    continue
                if not claimed:
                    await self._idle(stop, self._next_wait())
                    continue
                pending = self._start_claim()
                for n, row in enumerate(claimed):
                    paid = self._paid(row)
                    if not paid:
                        await self._ordinary_slot()
                    if stop.is_set():
                        break
                    await (self.paid_pacer if paid else self.pacer).acquire()
                    if not self.may_send():  # stopped leading meanwhile: give the rest back
                        await self._give_back([r.id for r in claimed[n:]])
                        break
                    task = asyncio.create_task(self._send(row), name=f"outbox-{row.id}")
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                    if not paid:
                        self._ordinary.add(task)
                        task.add_done_callback(self._ordinary.discard)
        finally:
            if pending is not None:
                await asyncio.gather(pending, return_exceptions=True)  # its rows are released on the way out

    async def _ordinary_slot(self) -> None:
        """Wait until fewer than `ordinary_in_flight` ordinary sends are unrecorded (module docstring:
        at most one repeat per crash). Waited for before the pacer, so starts stay evenly spaced."""
        while len(self._ordinary) >= self.ordinary_in_flight:
            await asyncio.wait(list(self._ordinary), return_when=asyncio.FIRST_COMPLETED)

    def _paid(self, row: _Claimed) -> bool:
        return self.paid_broadcast and bool(row.payload.get("broadcast")) and row.payload.get("method") == "sendMessage"

    def _start_claim(self) -> asyncio.Task:
        # Cleared before looking, so a row queued while we look still wakes the next wait.
        self._wake.clear()
        free = self.max_in_flight - len(self._in_flight)
        held = self._held_chats()
        most = self._priority_ceiling()

        async def claim() -> list[_Claimed] | None:
            if not await self._leading():
                return []
            if free <= 0:
                return []
            try:
                rows = await asyncio.to_thread(self._claim, min(free, self.claim_batch), held, most)
            except Exception:
                log.exception("claiming outbox rows failed; retrying")
                return None
            for row in rows:
                self._in_flight[row.id] = row.chat_id
            return rows

        return asyncio.create_task(claim(), name="outbox-claim")

    async def _leading(self) -> bool:
        leading = self.may_send()
        if leading and not self._sending:  # just elected: let the old leader's last sends age out
            try:
                last = await asyncio.to_thread(self._last_sent_at)
            except Exception:
                last = clock.now()
            age = (clock.now() - last).total_seconds() if last is not None else self.group_interval
            wait = min(self.group_interval, max(0.0, self.group_interval - age))
            self.pacer.next_at = max(self.pacer.next_at, time.monotonic() + wait)
        self._sending = leading
        return leading

    async def _give_back(self, ids: list[int]) -> None:
        for row_id in ids:
            self._in_flight.pop(row_id, None)
        try:
            await asyncio.to_thread(self._release, ids)
        except Exception:  # they are taken again when their claim runs out
            log.warning("giving back outbox rows failed", exc_info=True)

    def _held_chats(self) -> list[int]:
        now = time.monotonic()
        for chat, at in list(self._ready_at.items()):
            if at <= now:
                del self._ready_at[chat]
        return list(set(self._in_flight.values()) | set(self._recording.values()) | set(self._ready_at))

    def _priority_ceiling(self) -> int | None:
        """The least urgent priority that may be claimed now (None: any)."""
        now = time.monotonic()
        self._urgent = {p: until for p, until in self._urgent.items() if until > now}
        return min(self._urgent, default=None)

    def _hold_less_urgent(self, priority: int, seconds: float) -> None:
        self._urgent[priority] = max(self._urgent.get(priority, 0.0), time.monotonic() + seconds)

    def _next_wait(self) -> float:
        if not self._ready_at:
            return self.poll_interval
        soonest = min(self._ready_at.values()) - time.monotonic()
        return max(0.005, min(self.poll_interval, soonest))

    async def _idle(self, stop: asyncio.Event, seconds: float) -> None:
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()

    async def _finish_in_flight(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        if self._committer is not None:  # sent paid rows: record them (never give them back)
            await asyncio.wait([self._committer], timeout=10)
        leftover = [i for i in self._in_flight]
        if leftover:  # claimed but never started: give them back now instead of at lease expiry
            await asyncio.to_thread(self._release, leftover)
        self._in_flight.clear()

    async def _renew_leases(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(self.lease / 3)
            ids = [*self._in_flight, *self._recording]
            if ids:
                try:
                    await asyncio.to_thread(self._extend, ids)
                except Exception:
                    log.warning("renewing outbox leases failed", exc_info=True)

    # --- store operations (run in a worker thread) -------------------------------------------------
    def _claim(self, limit: int, held: list[int], most: int | None = None) -> list[_Claimed]:
        now = clock.now()
        with self.store.session() as s:
            # Pending rows and rows whose claim ran out (a crashed process) are read apart, each in
            # the index's (priority, id) order (ix_outbox_claim), so the scan stops after
            # `limit * 8` rows instead of reading and sorting every pending row (~4-8 ms a claim
            # with 10,000 queued); the few read are merged here.
            candidates = []
            for ready in ((Outbox.state == "pending") & (Outbox.not_before <= now),
                          (Outbox.state == "sending") & (Outbox.claimed_until < now)):
                query = select(Outbox.id, Outbox.chat_id, Outbox.priority).where(ready)
                if held:
                    query = query.where(Outbox.chat_id.not_in(held))  # type: ignore[attr-defined]
                if most is not None:
                    query = query.where(Outbox.priority <= most)
                query = query.order_by(Outbox.priority, Outbox.id).limit(limit * 8)
                if self.store.is_postgres:
                    query = query.with_for_update(skip_locked=True)
                candidates += s.exec(query).all()
            candidates.sort(key=lambda r: (r[2], r[0]))
            chosen: dict[int, int] = {}
            for row_id, chat_id, _ in candidates:
                if chat_id not in chosen:  # FIFO per chat: only its first row this round
                    chosen[chat_id] = row_id
                    if len(chosen) >= limit:
                        break
            if not chosen:
                return []
            # One statement claims and reads: Core (no ORM objects), RETURNING what the send needs.
            # The ORM UPDATE plus a SELECT of the claimed rows cost ~0.1 ms a row at paid-broadcast
            # rates (bench/RESULTS.md, issue 14). The state is checked again: a row read above may
            # have been claimed by another process meanwhile (SQLite has no SKIP LOCKED).
            c = Outbox.__table__.c
            still_ready = or_((c.state == "pending") & (c.not_before <= now),
                              (c.state == "sending") & (c.claimed_until < now))
            claimed = s.execute(
                update(Outbox.__table__)
                .where(c.id.in_(list(chosen.values())), still_ready)
                .values(state="sending", claimed_by=self.holder, claimed_until=now + timedelta(seconds=self.lease),
                        attempts=c.attempts + 1)
                .returning(c.id, c.chat_id, c.payload, c.attempts, c.priority)
            ).all()
            order = {i: n for n, i in enumerate(chosen.values())}
            rows = sorted((_Claimed(r.id, r.chat_id, dict(r.payload), r.attempts, r.priority) for r in claimed),
                          key=lambda r: order[r.id])
            keep = self._within_ordinary_batch(rows)
            if len(keep) < len(rows):  # back at once, in this transaction: claimed ahead they would wait
                s.execute(update(Outbox.__table__).where(c.id.in_([r.id for r in rows[len(keep):]]))
                          .values(state="pending", claimed_until=None, attempts=c.attempts - 1))
            return keep

    def _within_ordinary_batch(self, rows: list[_Claimed]) -> list[_Claimed]:
        """The claimed rows up to the one that would make more than `ordinary_batch` non-paid rows
        (a prefix, so the claim order stands)."""
        ordinary = 0
        for n, row in enumerate(rows):
            if not self._paid(row):
                ordinary += 1
                if ordinary > self.ordinary_batch:
                    return rows[:n]
        return rows

    def _last_sent_at(self) -> datetime | None:
        from sqlalchemy import func

        with self.store.session() as s:
            return s.exec(select(func.max(Outbox.sent_at))).one()

    def _extend(self, ids: list[int]) -> None:
        until = clock.now() + timedelta(seconds=self.lease)
        with self.store.session() as s:
            s.exec(update(Outbox).where(Outbox.id.in_(sorted(ids)), Outbox.state == "sending",  # type: ignore[union-attr]
                                        Outbox.claimed_by == self.holder)
                   .values(claimed_until=until))  # type: ignore[call-overload]

    def _release(self, ids: list[int]) -> None:
        with self.store.session() as s:
            s.exec(update(Outbox).where(Outbox.id.in_(ids), Outbox.state == "sending",  # type: ignore[union-attr]
                                        Outbox.claimed_by == self.holder)
                   .values(state="pending", claimed_until=None, attempts=Outbox.attempts - 1))  # type: ignore[call-overload]

    def _finish(self, row_id: int, **values: Any) -> None:
        with self.store.session() as s:
            s.exec(update(Outbox).where(Outbox.id == row_id, Outbox.claimed_by == self.holder)
                   .values(claimed_until=None, **values))  # type: ignore[call-overload]

    def _edit_target(self, outbox_id: int) -> tuple[str, int | None, int]:
        with self.store.session() as s:
            target = s.get(Outbox, outbox_id)
            if target is None:
                return "missing", None, 0
            return target.state, target.tg_message_id, target.chat_id

    def _instance_open(self, instance_id: int) -> bool:
        with self.store.session() as s:
            inst = s.get(DutyInstance, instance_id)
            return inst is not None and inst.status == "open" and inst.done_count < inst.required

    # --- one send -------------------------------------------------------------------------------------
    async def _send(self, row: _Claimed) -> None:
        chat = row.chat_id
        started = time.monotonic()
        self._ready_at[chat] = started + (self.group_interval if chat < 0 else self.chat_interval)
        try:
            outcome = await self._deliver(row)
        except RetryAfter as err:
            wait = _retry_after(err)
            self._ready_at[chat] = time.monotonic() + wait
            self._hold_less_urgent(row.priority, wait)
            self.stats.rate_limited += 1
            # Not a failure of the message: it does not count toward the 5xx backoff.
            await asyncio.to_thread(self._finish, row.id, state="pending", last_error=f"429 retry after {wait:g}s",
                                    attempts=row.attempts - 1, not_before=clock.now() + timedelta(seconds=wait))
        except (BadRequest, Forbidden, ChatMigrated) as err:
            if isinstance(err, BadRequest) and "message is not modified" in str(err).lower():
                await self._mark_sent(row, None)
            else:
                self.stats.failed += 1
                self._count(err)
                log.warning("outbox %s to %s refused: %s", row.id, chat, err)
                await asyncio.to_thread(self._finish, row.id, state="failed", last_error=_describe(err))
        except (NetworkError, InvalidToken, TelegramError, OSError) as err:  # 5xx, timeouts, network
            await self._retry_later(row, err)
        except Exception as err:  # a bug or a bad payload: keep the row, retry slowly, say so
            log.exception("outbox %s: unexpected error", row.id)
            await self._retry_later(row, err)
        else:
            if outcome == "skipped":
                self.stats.skipped += 1
                await asyncio.to_thread(self._finish, row.id, state="skipped")
            elif outcome == "deferred":
                self._ready_at.pop(chat, None)
                await asyncio.to_thread(self._finish, row.id, state="pending", attempts=row.attempts - 1,
                                        not_before=clock.now() + timedelta(seconds=0.5))
            elif outcome == "failed":
                self.stats.failed += 1
            else:
                await self._mark_sent(row, outcome)
        finally:
            self._in_flight.pop(row.id, None)
            self._wake.set()

    async def _retry_later(self, row: _Claimed, err: BaseException) -> None:
        delay = min(self.max_backoff, 0.5 * 2 ** min(row.attempts - 1, 12)) * random.uniform(0.8, 1.2)
        self.stats.retried += 1
        self._count(err)
        await asyncio.to_thread(self._finish, row.id, state="pending", last_error=_describe(err),
                                not_before=clock.now() + timedelta(seconds=delay))

    async def _mark_sent(self, row: _Claimed, message_id: int | None) -> None:
        now_m = time.monotonic()
        self.stats.sent += 1
        self.stats.first_send = self.stats.first_send or now_m
        self.stats.last_send = now_m
        if not self._paid(row) or message_id is None:
            values: dict[str, Any] = {"state": "sent", "sent_at": clock.now(), "last_error": None}
            if message_id is not None:
                values["tg_message_id"] = message_id
            await self._record_sent(row.id, values)
            return
        # Paid broadcast: group commit, one per `record_every` (50 ms: ~50 rows at 1,000/s), so 1,000/s
        # is not capped by one database commit per message (SQLite: ~100/s; and at ~3 rows a commit,
        # as when each commit started when the previous one ended, recording cost 0.22 ms of CPU per
        # row). The row leaves the in-flight slots at once (they bound requests, not commits) but
        # stays held (its chat is not claimed again) and its lease renewed until the commit holds.
        # Only these rows: a process killed before the commit leaves up to one batch plus the
        # requests in flight unrecorded, sent again by the next leader.
        self._recording[row.id] = row.chat_id
        self._sent_batch.append({"oid": row.id, "at": clock.now(), "mid": message_id})
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_sent(), name="outbox-sent-commit")

    async def _record_sent(self, row_id: int, values: dict[str, Any]) -> None:
        """Commit one row as sent, retrying until it holds: Telegram has the message, so giving up
        would send it again when the claim runs out. The row stays in flight meanwhile (claim
        renewed) and, for an ordinary row, no other ordinary request starts."""
        delay = 0.05
        while True:
            try:
                await asyncio.to_thread(self._finish, row_id, **values)
                return
            except Exception:
                log.warning("recording outbox %s as sent failed; retrying", row_id, exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _commit_sent(self) -> None:
        delay = 0.05
        while self._sent_batch:
            await asyncio.sleep(self.record_every)
            batch = list(self._sent_batch)
            try:
                await asyncio.to_thread(self._finish_sent, batch)
            except Exception:  # a deadlock with a lease renewal, the database away: try again
                # The rows stay held and their lease renewed meanwhile, so nobody sends them again.
                log.warning("recording %d sent rows failed; retrying", len(batch), exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.05
            del self._sent_batch[:len(batch)]  # rows sent meanwhile were appended after them
            for b in batch:
                self._recording.pop(b["oid"], None)

    def _finish_sent(self, rows: list[dict]) -> None:
        table = Outbox.__table__
        rows = sorted(rows, key=lambda r: r["oid"])  # the lease renewal locks in id order too
        with self.store.session() as s:
            s.execute(update(table).where(table.c.id == bindparam("oid"), table.c.claimed_by == self.holder)
                      .values(state="sent", sent_at=bindparam("at"), tg_message_id=bindparam("mid"),
                              claimed_until=None, last_error=None), rows)

    def _count(self, err: BaseException) -> None:
        name = type(err).__name__
        self.stats.by_error[name] = self.stats.by_error.get(name, 0) + 1

    async def _deliver(self, row: _Claimed) -> int | str | None:
        """Send one payload; returns the Telegram message id, or "skipped" / "deferred" / "failed"."""
        p = row.payload
        if p.get("if_open") is not None and not await asyncio.to_thread(self._instance_open, int(p["if_open"])):
            return "skipped"
        method = p.get("method")
        if method == "sendMessage" and self._paid(row):
            return await self._deliver_paid(row)
        markup = _keyboard(p.get("buttons"))
        if method == "sendMessage":
            parts = split_text(p["text"])
            for n, part in enumerate(parts):  # a text over Telegram's limit goes out in parts, in order
                last = n == len(parts) - 1
                msg = await self.bot.send_message(row.chat_id, part, reply_markup=markup if last else None,
                                                  parse_mode=p.get("parse_mode"),
                                                  disable_notification=p.get("silent"))
            return msg.message_id
        if method in ("sendDocument", "sendPhoto"):
            data: Any = p.get("file_id")
            if data is None:
                try:
                    data = await asyncio.to_thread(self._path(p["path"]).read_bytes)
                except FileNotFoundError:
                    await asyncio.to_thread(self._finish, row.id, state="failed", last_error=f"no such file: {p['path']}")
                    return "failed"
            if method == "sendPhoto":
                msg = await self.bot.send_photo(row.chat_id, data, caption=p.get("caption") or None, reply_markup=markup)
            else:
                msg = await self.bot.send_document(row.chat_id, data, caption=p.get("caption") or None,
                                                   filename=p.get("filename") or Path(p.get("path", "file")).name,
                                                   reply_markup=markup)
            return msg.message_id
        if method == "editMessageText":
            state, message_id, chat_id = await asyncio.to_thread(self._edit_target, int(p["edit_of"]))
            if state in ("pending", "sending"):
                return "deferred"
            if state != "sent" or message_id is None:
                await asyncio.to_thread(self._finish, row.id, state="failed",
                                        last_error=f"the message to edit (outbox {p['edit_of']}) is {state}")
                return "failed"
            result = await self.bot.edit_message_text(p["text"], chat_id=chat_id, message_id=message_id,
                                                      reply_markup=markup, parse_mode=p.get("parse_mode"))
            return result.message_id if isinstance(result, Message) else message_id
        await asyncio.to_thread(self._finish, row.id, state="failed", last_error=f"unknown payload method {method!r}")
        return "failed"

    async def _deliver_paid(self, row: _Claimed) -> int:
        """sendMessage with allow_paid_broadcast, through `Bot.do_api_request` with `return_type=None`:
        the same request and the same errors as `send_message`, but no Message is built from the reply
        (only its message_id is kept) and no InlineKeyboardMarkup from the buttons. At 1,000 calls a
        second those two were a third of the sender's CPU (bench/RESULTS.md, issue 14)."""
        p = row.payload
        parts = split_text(p["text"])
        result: Any = None
        for n, part in enumerate(parts):
            kwargs: dict[str, Any] = {"chat_id": row.chat_id, "text": part, "allow_paid_broadcast": True}
            if p.get("parse_mode"):
                kwargs["parse_mode"] = p["parse_mode"]
            if p.get("silent"):
                kwargs["disable_notification"] = True
            if n == len(parts) - 1 and p.get("buttons"):
                kwargs["reply_markup"] = _keyboard_json(p["buttons"])
            result = await self.bot.do_api_request("sendMessage", api_kwargs=kwargs, return_type=None)
        return int(result["message_id"])

    def _path(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else self.data_dir / path


TEXT_LIMIT = 4096  # Telegram's limit for one message


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Parts of at most `limit` characters, cut at line breaks where possible."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    parts.append(text)
    return parts


def _keyboard(rows: list[list[dict]] | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(b["text"], url=b["url"]) if "url" in b else
         InlineKeyboardButton(b["text"], callback_data=b["data"]) for b in row]
        for row in rows
    ])


def _keyboard_json(rows: list[list[dict]]) -> dict:
    """The Bot API's InlineKeyboardMarkup as JSON, what `_keyboard(rows).to_dict()` gives."""
    return {"inline_keyboard": [[{"text": b["text"], "url": b["url"]} if "url" in b else
                                 {"text": b["text"], "callback_data": b["data"]} for b in row] for row in rows]}


def _retry_after(err: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that retry_after will become a timedelta
        warnings.simplefilter("ignore")
        value = err.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"[:500]


def outbox_counts(store: Store) -> dict[str, int]:
    """Rows per state (for tests, the demo and `dutybot status`-like views)."""
    from sqlalchemy import func

    with store.session() as s:
        return {state: n for state, n in s.exec(select(Outbox.state, func.count()).group_by(Outbox.state))}


def pending_count(store: Store, now: datetime | None = None) -> int:
    """Rows that still have to go out (pending or being sent)."""
    from sqlalchemy import func

    with store.session() as s:
        return s.exec(select(func.count()).select_from(Outbox)
                      .where(Outbox.state.in_(["pending", "sending"]))).one()  # type: ignore[attr-defined]
