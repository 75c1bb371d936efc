"""/ 总览: the office's overview."""

from __future__ import annotations

from aiohttp import web

from bot import clock
from bot.services import dashboard
from bot.texts import web as T
from bot.web import charts, render
from bot.web.context import ctx, db

routes = web.RouteTableDef()
NAV = [(10, "/", T.NAV_OVERVIEW)]


@routes.get("/")
async def overview(request: web.Request) -> web.Response:
    tz = ctx(request).settings.zone
    now = clock.now()
    data = await db(request, dashboard.overview, now, tz)
    by_unit = data.stats.by_unit
    names = data.stats.unit_names
    units = sorted(by_unit, key=lambda u: (by_unit[u].rate if by_unit[u].rate is not None else 2, names.get(u, u)))
    bars = charts.unit_bars([(names.get(u, u), by_unit[u]) for u in units], T.LEGEND)
    trend = charts.trend_line([(m.label, m.progress.rate) for m in data.trend])
    return render.page(request, "overview.html", title=T.OVERVIEW_TITLE, data=data, bars=bars, trend=trend,
                       colors=charts.COLORS, order=charts.ORDER)
