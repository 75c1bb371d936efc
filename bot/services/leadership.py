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

log = logging.getLogger(__name__)


def holder_id() -> str:
    """host:pid:random, unique per process start (a restarted process is a new holder)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


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
        await asyncio.to_thread(self._ensure)
        await self._attempt()

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
    def _ensure(self) -> None:
        with self.store.session() as s:
            lease.ensure(s, self.name)

    def _acquire(self) -> Term | None:
        with self.store.session() as s:
            return lease.acquire(s, self.holder, self.lease, self.name)

    def _release(self, term: Term) -> None:
        with self.store.session() as s:
            lease.release(s, term.holder, term.epoch, term.name)

    def snapshot(self) -> dict:
        """This process's view, for /healthz."""
        leading = self.is_leader()
        term = self.term if leading else None
        return {"leader": leading, "holder": self.holder, "epoch": term.epoch if term else None,
                "lease_expires_at": term.expires_at.isoformat() if term else None}
