"""/healthz: JSON for probes, no sign-in."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.services.health import health
from bot.web.context import LEADERSHIP, db
from bot.web.security import public

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


@routes.get("/healthz")
@public
async def healthz(request: web.Request) -> web.Response:
    try:
        body = await db(request, health, request.app.get(LEADERSHIP))
    except Exception as err:  # the store is unreachable: say so, with 503 for the probe
        log.warning("healthz: %s", err)
        return web.json_response({"ok": False, "leader": False, "error": type(err).__name__}, status=503)
    return web.json_response(body)
