"""/rank 季度考核排名: one quarter's ranking (bot/services/assessment.py), the bottom-two history of
the quarters before it and the 通报批评/约谈 steps the catalogue sets.

A ranking sums every instance of each quarter it looks at (the quarter, HISTORY - 1 before it and
the streaks' look-back: at 10,000 people and 1.5 M instances about 0.5 s on PostgreSQL and 3-4 s on
SQLite, per unit in the database), so nobody waits for it: `Rankings` computes the page's default
quarters (the last closed one and the one under way) in the background when the console starts,
and every page it keeps is recomputed in the background KEEP after it was computed, while the
page goes on showing the kept one (it says when it was computed). A ranking is read at a
quarterly meeting, not watched live; a check-in shows in it within KEEP. Only a quarter nobody
asked for since the process started (an old one picked from the list) is computed while the
request waits, once for everyone asking at the same time, and 立即重算 (POST /rank/refresh)
recomputes a quarter while the office waits, for the figures of this moment.

Why not an aggregate table kept in step with every instance: a ranking counts a person for the
unit they belong to now, and an open instance as missed from the moment its window closes, so
such a table would change with every move and with the clock, not only with writes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime
from urllib.parse import urlencode

from aiohttp import web

from bot import clock
from bot.services import assessment
from bot.telegram.context import BotContext
from bot.texts import console as C
from bot.web import render
from bot.web.context import CTX, ctx, redirect
from bot.web.errors import BadInput

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
NAV = [(50, "/rank", C.NAV_RANK)]
HISTORY = 8  # quarters shown in the bottom-two history
KEEP = 600.0  # seconds after which a kept page is recomputed (in the background)
FORGET = 86400.0  # a quarter not asked for this long is no longer kept fresh


class Rankings:
    """Quarter → (computed at, history), kept fresh off the request path."""

    def __init__(self, bot: BotContext):
        self.bot = bot
        self.kept: dict[str, tuple[float, datetime, list[assessment.Ranking]]] = {}
        self.asked: dict[str, float] = {}
        self.running: dict[str, asyncio.Task] = {}
        self.loop_task: asyncio.Task | None = None

    def defaults(self) -> list[str]:
        today = clock.now().astimezone(self.bot.settings.zone).date()
        return [assessment.last_closed_quarter(today), assessment.quarter_of(today)]

    async def get(self, quarter: str) -> tuple[datetime, list[assessment.Ranking]]:
        self.asked[quarter] = time.monotonic()
        kept = self.kept.get(quarter)
        if kept is None:
            return await self.compute(quarter)
        if time.monotonic() - kept[0] > KEEP:
            self.refresh(quarter)
        return kept[1], kept[2]

    def refresh(self, quarter: str) -> asyncio.Task:
        # A finished computation is never joined: its done callback (which forgets it) runs a loop
        # turn after it finishes, and a caller that saw its result in `kept` may have written since.
        task = self.running.get(quarter)
        if task is None or task.done():
            task = self.running[quarter] = asyncio.create_task(self._compute(quarter))
            task.add_done_callback(lambda t: self.running.pop(quarter) if self.running.get(quarter) is t else None)
        return task

    async def compute(self, quarter: str, *, fresh: bool = False) -> tuple[datetime, list[assessment.Ranking]]:
        """The quarter computed now (joining a computation under way, unless `fresh`: one that
        started before the caller's latest change may not see it; one started since does)."""
        if fresh:
            running = self.running.get(quarter)
            if running is not None and not running.done():
                with contextlib.suppress(Exception):
                    await asyncio.shield(running)
        return await asyncio.shield(self.refresh(quarter))

    async def _compute(self, quarter: str) -> tuple[datetime, list[assessment.Ranking]]:
        c, now = self.bot, clock.now()

        def work():
            with c.store.session() as s:
                return assessment.bottom_history(s, quarter, now, quarters=HISTORY, tz=c.settings.zone,
                                                 weights=assessment.weights_of(c.catalog),
                                                 policy=assessment.policy_from(c.catalog))

        history = await asyncio.to_thread(work)
        self.kept[quarter] = (time.monotonic(), now, history)
        return now, history

    async def keep_fresh(self) -> None:
        """Warm the default quarters, then recompute whatever is due, oldest first."""
        while True:
            wanted = list(dict.fromkeys(self.defaults() + [q for q, at in self.asked.items()
                                                            if time.monotonic() - at < FORGET]))
            for quarter in wanted:
                kept = self.kept.get(quarter)
                if kept is None or time.monotonic() - kept[0] > KEEP:
                    try:
                        await self.compute(quarter)
                    except Exception:  # a failed background computation is retried next round
                        log.exception("ranking of %s", quarter)
            oldest = min((self.kept[q][0] for q in wanted if q in self.kept), default=time.monotonic())
            await asyncio.sleep(max(KEEP - (time.monotonic() - oldest), 1.0))

    async def start(self, _app: web.Application) -> None:
        self.loop_task = asyncio.create_task(self.keep_fresh())

    async def stop(self, _app: web.Application) -> None:
        if self.loop_task is not None:
            self.loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.loop_task
        for task in list(self.running.values()):  # a computation in its thread cannot be cancelled:
            with contextlib.suppress(Exception):  # let it end before the store goes away
                await task


RANKINGS = web.AppKey("rankings", Rankings)


def setup(app: web.Application) -> None:
    rankings = app[RANKINGS] = Rankings(app[CTX])
    app.on_startup.append(rankings.start)
    app.on_cleanup.append(rankings.stop)


def _quarter(value: str, default: str) -> str:
    quarter = value.strip().upper() or default
    try:
        assessment.parse_quarter(quarter)
    except ValueError:
        raise BadInput(C.BAD_QUARTER.format(value=value)) from None
    return quarter


@routes.post("/rank/refresh")
async def refresh(request: web.Request) -> web.Response:
    """立即重算: the office wants the figures of this moment (an exemption just approved, a meeting
    about to start); the request waits for the computation."""
    form = await request.post()
    tz = ctx(request).settings.zone
    quarter = _quarter(str(form.get("quarter", "")), assessment.last_closed_quarter(clock.now().astimezone(tz).date()))
    await request.app[RANKINGS].compute(quarter, fresh=True)
    return redirect("/rank?" + urlencode({"quarter": quarter}))


@routes.get("/rank")
async def rank_page(request: web.Request) -> web.Response:
    c = ctx(request)
    tz = c.settings.zone
    now = clock.now()
    latest = assessment.last_closed_quarter(now.astimezone(tz).date())
    quarter = _quarter(request.query.get("quarter", ""), latest)
    policy = assessment.policy_from(c.catalog)
    computed, history = await request.app[RANKINGS].get(quarter)
    choices = [latest]
    for _ in range(11):
        choices.append(assessment.previous_quarter(choices[-1]))
    current = assessment.quarter_of(now.astimezone(tz).date())
    choices.insert(0, current)  # the quarter under way: a provisional ranking
    if quarter not in choices:
        choices.append(quarter)
    steps = "；".join(C.RANK_STEP.format(after=s.after, action=s.describe()) for s in policy.steps)
    return render.page(request, "rank.html", title=C.RANK_TITLE, r=history[0], history=history, policy=policy,
                       choices=choices, quarter=quarter, steps_text=steps, computed=computed)
