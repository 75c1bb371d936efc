"""Leadership of this process: keeps the store's leader lease (bot/store/lease.py) and says
whether this process leads now.

    leadership = Leadership(store, lease=15, renew=5, on_elected=..., on_deposed=...)
    await leadership.start()          # one attempt at once (a lone process leads from its start)
    task = asyncio.create_task(leadership.run(stop))
    leadership.is_leader()            # cheap, local: may this process act as leader right now?
    with leadership.fenced(): ...     # leader-only work: its store commits are refused once fenced
    await leadership.release()        # graceful stop: a follower takes over at its next attempt

The leader renews every `renew` seconds; a follower tries every `follow` seconds (≤ 1 s, one
UPDATE that matches no row while the lease is held), so it leads at most `lease + follow` seconds
after the leader's last renewal, and at once after a graceful release.

`is_leader()` trusts the lease only until `lease - margin` seconds (monotonic clock) after the
renewal *request was sent*: the database's expiry is at least that far away, so this process stops
believing it leads before anyone else may take over, also when it was paused (SIGSTOP, a
suspended VM) or cut off from the database. Writes are fenced besides (the epoch is checked at
commit), so work begun just before that moment cannot land either.

Transitions are reported through `on_elected(term)` and `on_deposed(term)` (plain callables,
called in the loop; they should only start or stop tasks). A renewal that comes back with a new
epoch (our lease had lapsed and we took it again) is a deposition followed by an election.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

from bot.store import Store, lease
from bot.store.lease import Term
from bot.store.models import LeaderLease

log = logging.getLogger(__name__)


def holder_id() -> str:
    """host:pid:random, unique per process start (a restarted process is a new holder)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def dead_here(holder: str | None, me: str) -> bool:
    """Is `holder` an earlier process of this host that is gone? (Same host name and its pid is not
    running, or is pid 1 and we are pid 1: a restarted container keeps its host name.) Its lease
    and claims need not run out before a restarted lone process carries on."""
    if not holder or holder == me:
        return False
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != me.partition(":")[0] or not pid.isdigit():
        return False
    if int(pid) == os.getpid():  # pid 1 again: the container restarted; else another runtime of ours
        return int(pid) == 1
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, not ours to signal
        return False
    return False


def reap(session, me: str) -> list[str]:
    """Give back the outbox and inbox claims of dead holders of this host; returns them."""
    from sqlalchemy import update
    from sqlmodel import select

    from bot.store.models import InboxUpdate, Outbox

    holders = set(session.exec(select(Outbox.claimed_by).where(Outbox.state == "sending").distinct()))
    holders |= set(session.exec(select(InboxUpdate.claimed_by).where(InboxUpdate.state == "new",
                                                                     InboxUpdate.claimed_until.is_not(None)).distinct()))
    dead = [h for h in holders if dead_here(h, me)]
    if dead:
        session.exec(update(Outbox).where(Outbox.state == "sending", Outbox.claimed_by.in_(dead))
                     .values(state="pending", claimed_until=None))
        session.exec(update(InboxUpdate).where(InboxUpdate.state == "new", InboxUpdate.claimed_by.in_(dead))
                     .values(claimed_until=None))
    return dead


class Leadership:
    def __init__(self, store: Store, *, lease_seconds: float = 15.0, renew_seconds: float = 5.0,
                 name: str = lease.DEFAULT, holder: str | None = None,
                 on_elected: Callable[[Term], Any] | None = None, on_deposed: Callable[[Term], Any] | None = None):
        if renew_seconds >= lease_seconds:
            raise ValueError("the lease must be renewed well before it runs out (renew < lease)")
        self.store = store
        self.name = name
        self.holder = holder or holder_id()
        self.lease = float(lease_seconds)
        self.renew = float(renew_seconds)
        self.follow = min(self.renew, 1.0)
        self.margin = min(1.0, self.lease * 0.1)
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self.term: Term | None = None
        self._valid_until = 0.0  # monotonic
        self.elections = 0
        self._dead: str | None = None  # at start: a crashed holder of this host

    # --- what the process asks ----------------------------------------------------------------
    def is_leader(self) -> bool:
        return self.term is not None and time.monotonic() < self._valid_until

    @property
    def epoch(self) -> int | None:
        return self.term.epoch if self.is_leader() else None

    @contextlib.contextmanager
    def fenced(self, term: Term | None = None) -> Iterator[Term]:
        """Leader-only work: commits inside are checked against `term` (default: the current one)."""
        term = term or self.term
        if term is None:
            raise lease.Fenced("this process does not lead")
        with lease.fenced(term):
            yield term

    # --- life cycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Create the lease row if needed, take over from a crashed process of this host at once,
        and make the first attempt (a lone process leads from here on)."""
        self._dead = await asyncio.to_thread(self._ensure)
        await self._attempt()
        self._dead = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self._attempt()
            wait = self.renew if self.is_leader() else self.follow
            if self.term is not None:  # never sleep past our own validity: step down on time
                wait = max(0.01, min(wait, self._valid_until - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)

    async def release(self) -> None:
        """Step down and hand the lease over at once (graceful stop)."""
        term = self.term
        if term is None:
            return
        self._depose()
        try:
            await asyncio.to_thread(self._release, term)
        except Exception:
            log.warning("releasing the leader lease failed; it runs out in %.0fs", self.lease, exc_info=True)

    # --- one attempt ----------------------------------------------------------------------------
    async def _attempt(self) -> None:
        sent_at = time.monotonic()
        try:
            term = await asyncio.to_thread(self._acquire)
        except Exception as err:
            log.warning("leader lease: database unreachable (%s)", type(err).__name__)
            term = None
            failed = True
        else:
            failed = False
        if term is not None:
            if self.term is not None and self.term.epoch != term.epoch:
                self._depose()
            self._valid_until = sent_at + self.lease - self.margin
            if self.term is None:
                self.term = term
                self.elections += 1
                log.info("leader now (epoch %d, holder %s)", term.epoch, self.holder)
                self._call(self.on_elected, term)
            else:
                self.term = term
            return
        if self.term is not None and (not failed or time.monotonic() >= self._valid_until):
            log.warning("leadership lost (epoch %d)", self.term.epoch)
            self._depose()

    def _depose(self) -> None:
        term, self.term = self.term, None
        self._valid_until = 0.0
        if term is not None:
            self._call(self.on_deposed, term)

    def _call(self, callback: Callable[[Term], Any] | None, term: Term) -> None:
        if callback is not None:
            try:
                callback(term)
            except Exception:
                log.exception("leadership callback failed")

    # --- store (worker threads) -----------------------------------------------------------------
    def _ensure(self) -> str | None:
        with self.store.session() as s:
            lease.ensure(s, self.name)
            row, _ = lease.current(s, self.name)
            reaped = reap(s, self.holder)
        if reaped:
            log.info("gave back the claims of %s (gone)", ", ".join(reaped))
        return row.holder if row is not None and dead_here(row.holder, self.holder) else None

    def _acquire(self) -> Term | None:
        with self.store.session() as s:
            term = lease.acquire(s, self.holder, self.lease, self.name, dead=self._dead)
            if term is None and s.get(LeaderLease, self.name) is None:  # the row was deleted: start over
                lease.ensure(s, self.name)
                term = lease.acquire(s, self.holder, self.lease, self.name)
            return term

    def _release(self, term: Term) -> None:
        with self.store.session() as s:
            lease.release(s, term.holder, term.epoch, term.name)

    def snapshot(self) -> dict:
        """This process's view, for /healthz."""
        leading = self.is_leader()
        term = self.term if leading else None
        return {"leader": leading, "holder": self.holder, "epoch": term.epoch if term else None,
                "lease_expires_at": term.expires_at.isoformat() if term else None}
