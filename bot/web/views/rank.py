"""/rank 季度考核排名: one quarter's ranking (bot/services/assessment.py), the bottom-two history of
the quarters before it and the 通报批评/约谈 steps the catalogue sets.

A ranking sums every instance of each quarter it looks at (a few hundred thousand rows each at
county scale, about a second per quarter on SQLite), so a quarter's page is kept for KEEP and
says when it was computed; a ranking is read at a quarterly meeting, not watched live."""

from __future__ import annotations

import time

from aiohttp import web

from bot import clock
from bot.services import assessment
from bot.texts import console as C
from bot.web import render
from bot.web.context import ctx, db
from bot.web.errors import BadInput

routes = web.RouteTableDef()
NAV = [(50, "/rank", C.NAV_RANK)]
HISTORY = 8  # quarters shown in the bottom-two history
KEEP = 600.0  # seconds a computed page is reused
CACHE = web.AppKey("rank_cache", dict)  # quarter -> (monotonic time, computed at, history)


def setup(app: web.Application) -> None:
    app[CACHE] = {}


@routes.get("/rank")
async def rank_page(request: web.Request) -> web.Response:
    c = ctx(request)
    tz = c.settings.zone
    now = clock.now()
    latest = assessment.last_closed_quarter(now.astimezone(tz).date())
    quarter = request.query.get("quarter", "").strip().upper() or latest
    try:
        assessment.parse_quarter(quarter)
    except ValueError:
        raise BadInput(C.BAD_QUARTER.format(value=request.query.get("quarter", ""))) from None
    policy = assessment.policy_from(c.catalog)
    weights = assessment.weights_of(c.catalog)
    cache = request.app[CACHE]
    kept = cache.get(quarter)
    if kept is None or time.monotonic() - kept[0] > KEEP:
        history = await db(request, assessment.bottom_history, quarter, now, quarters=HISTORY, tz=tz,
                           weights=weights, policy=policy)
        kept = cache[quarter] = (time.monotonic(), now, history)
    _, computed, history = kept
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
