"""Jinja2 pages: templates/ and the texts of bot/texts/web.py (as `T`), filters for times in the
display timezone and for period keys, and the layout's navigation (from the views' NAV)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jinja2
from aiohttp import web

from bot.services.dashboard import CALENDAR_KEY
from bot.texts import console, fmt
from bot.texts import web as T
from bot.web.context import ctx

ENV = web.AppKey("jinja_env", jinja2.Environment)
NAV = web.AppKey("nav", list)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("bot.web", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "svg"]), trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.globals["T"] = T
    env.globals["C"] = console  # the office pages beyond the skeleton (bot/texts/console.py)
    env.filters.update(
        period=lambda key: fmt.period(key) if CALENDAR_KEY.match(key) else T.ONE_OFF,
        pct=lambda v: "—" if v is None else f"{v:.0%}",
        kind=lambda k: T.KINDS.get(k, k),
        status=lambda s: T.STATUSES.get(s, s),
    )
    return env


def setup(app: web.Application, nav: list[tuple[int, str, str]]) -> None:
    app[ENV] = environment()
    app[NAV] = sorted(nav)


def page(request: web.Request, template: str, *, status: int = 200, **values: Any) -> web.Response:
    return web.Response(text=html(request, template, **values), status=status, content_type="text/html")


def html(request: web.Request, template: str, **values: Any) -> str:
    from bot.web.security import user

    tz = ctx(request).settings.zone
    me = user(request)

    def local(dt: datetime | None, style: str = "full") -> str:
        if dt is None:
            return "—"
        return {"full": fmt.full, "moment": fmt.moment, "day": fmt.day, "clock": fmt.clock}[style](dt, tz)

    nav = [(path, label) for _, path, label in request.app[NAV]] if me and me.is_office else []
    base = {"me": me, "csrf": me.csrf_token if me else "", "nav": nav, "path": request.path, "local": local}
    return request.app[ENV].get_template(template).render(**base, **values)
