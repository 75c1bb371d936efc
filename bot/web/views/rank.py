"""/rank 季度考核排名: the ranking of a quarter (default: the last closed one), its 通报批评/约谈
steps, and the bottom-two history of the quarters before it."""

from __future__ import annotations

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

    def load(s):
        current = assessment.rank_quarter(s, quarter, now, tz=tz, weights=weights, policy=policy)
        history, q = [], quarter
        for _ in range(HISTORY):
            q = assessment.previous_quarter(q)
            r = assessment.rank_quarter(s, q, now, tz=tz, weights=weights, policy=policy)
            history.append((q, [u for u in r.units if u.bottom]))
        return current, history

    current, history = await db(request, load)
    return render.page(request, "rank.html", title=T.RANK_TITLE, r=current, history=history, policy=policy,
                       prev=assessment.previous_quarter(quarter))
