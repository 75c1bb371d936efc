"""/rank 季度考核排名: the ranking of a quarter (default: the last closed one), its 通报批评/约谈
steps, and the bottom-two history of the quarters before it."""

from __future__ import annotations

import time

from aiohttp import web

from bot import clock
from bot.services import assessment
from bot.texts import web as T
from bot.web import render
from bot.web.context import ctx, db
from bot.web.errors import BadInput

routes = web.RouteTableDef()
NAV = [(60, "/rank", T.NAV_RANK)]
HISTORY = 4
# A quarter's ranking counts every instance of it (≈ 1 s at 1.5 M): kept FRESH seconds per quarter,
# so the page and its four quarters of history do not count five quarters on every view.
FRESH = 600.0
CACHE = web.AppKey("rank_cache", dict)


def setup(app: web.Application) -> None:
    app[CACHE] = {}


@routes.get("/rank")
async def rank_page(request: web.Request) -> web.Response:
    c = ctx(request)
    tz = c.settings.zone
    now = clock.now()
    quarter = request.query.get("quarter", "").upper() or assessment.last_closed_quarter(now.astimezone(tz).date())
    try:
        assessment.parse_quarter(quarter)
    except ValueError:
        raise BadInput(T.BAD_QUARTER.format(value=quarter)) from None
    weights, policy = assessment.weights_of(c.catalog), assessment.policy_from(c.catalog)

    cache = request.app[CACHE]

    async def ranking(q: str):
        hit = cache.get(q)
        if hit is not None and time.monotonic() - hit[0] < FRESH:
            return hit[1]
        r = await db(request, lambda s: assessment.rank_quarter(s, q, now, tz=tz, weights=weights, policy=policy))
        cache[q] = (time.monotonic(), r)
        return r

    current = await ranking(quarter)
    history, q = [], quarter
    for _ in range(HISTORY):
        q = assessment.previous_quarter(q)
        history.append((q, [u for u in (await ranking(q)).units if u.bottom]))
    return render.page(request, "rank.html", title=T.RANK_TITLE, r=current, history=history, policy=policy,
                       prev=assessment.previous_quarter(quarter))
