"""/ 总览: the office's overview."""

from __future__ import annotations

import time

from aiohttp import web

from bot import clock
from bot.services import dashboard
from bot.texts import web as T
from bot.web import charts, render
from bot.web.context import ctx, db

routes = web.RouteTableDef()
NAV = [(10, "/", T.NAV_OVERVIEW)]
# The figures are counted over every current instance (≈ 0.5 s at 1.5 M on SQLite): an office
# with several people on the page shares one count per FRESH seconds; the page says when.
FRESH = 30.0
CACHE = web.AppKey("overview_cache", dict)


def setup(app: web.Application) -> None:
    app[CACHE] = {}


async def _figures(request: web.Request):
    cache = request.app[CACHE]
    if cache and time.monotonic() - cache["at"] < FRESH:
        return cache["data"], cache["now"]
    now = clock.now()
    data = await db(request, dashboard.overview, now, ctx(request).settings.zone)
    cache.update(at=time.monotonic(), data=data, now=now)
    return data, now


@routes.get("/")
async def overview(request: web.Request) -> web.Response:
    data, counted_at = await _figures(request)
    by_unit = data.stats.by_unit
    names = data.stats.unit_names
    units = sorted(by_unit, key=lambda u: (by_unit[u].rate if by_unit[u].rate is not None else 2, names.get(u, u)))
    bars = charts.unit_bars([(names.get(u, u), by_unit[u]) for u in units], T.LEGEND)
    trend = charts.trend_line([(m.label, m.progress.rate) for m in data.trend])
    return render.page(request, "overview.html", title=T.OVERVIEW_TITLE, data=data, bars=bars, trend=trend,
                       colors=charts.COLORS, order=charts.ORDER, counted_at=counted_at)
