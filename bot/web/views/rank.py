"""/rank 季度考核排名: one quarter's ranking (bot/services/assessment.py), the bottom-two history of
the quarters before it and the 通报批评/约谈 steps the catalogue sets."""

from __future__ import annotations

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
    history = await db(request, assessment.bottom_history, quarter, now, quarters=HISTORY, tz=tz, weights=weights,
                       policy=policy)
    choices = [latest]
    for _ in range(11):
        choices.append(assessment.previous_quarter(choices[-1]))
    current = assessment.quarter_of(now.astimezone(tz).date())
    choices.insert(0, current)  # the quarter under way: a provisional ranking
    if quarter not in choices:
        choices.append(quarter)
    steps = "；".join(C.RANK_STEP.format(after=s.after, action=s.describe()) for s in policy.steps)
    return render.page(request, "rank.html", title=C.RANK_TITLE, r=history[0], history=history, policy=policy,
                       choices=choices, quarter=quarter, steps_text=steps)
