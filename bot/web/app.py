"""The console's aiohttp application and the server that runs it in the current asyncio loop.

    server = WebServer(ctx, "127.0.0.1:8080", on_outbox=sender.wake)
    await server.start()        # AppRunner + TCPSite: no thread, no second loop
    server.url                  # http://127.0.0.1:<port> (port 0 picks a free one)
    await server.stop()
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from bot.telegram.context import BotContext
from bot.web import errors, render, security, views
from bot.web.context import CTX, LEADERSHIP, ON_OUTBOX

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
MAX_UPLOAD = 20 * 1024 * 1024  # a warning's photo
SHUTDOWN = 5.0  # seconds requests still running get when the process stops (live boards end at once)


def create_app(ctx: BotContext, *, on_outbox: Callable[[], None] | None = None,
               leadership: object | None = None) -> web.Application:
    app = web.Application(middlewares=[errors.middleware, security.middleware], client_max_size=MAX_UPLOAD)
    app[CTX] = ctx
    if on_outbox is not None:
        app[ON_OUTBOX] = on_outbox
    if leadership is not None:
        app[LEADERSHIP] = leadership
    app[security.SIGNIN_LIMIT] = security.RateLimit()
    found = views.modules()
    render.setup(app, views.nav(found))
    for module in found:
        app.add_routes(module.routes)
        if hasattr(module, "setup"):  # app-wide state of a page area, made before the app starts
            module.setup(app)
    app.router.add_static("/static", STATIC)
    app.on_response_prepare.append(_headers)
    return app


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    # Pages are per person: never cached by a shared proxy; no framing, no sniffing.
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")


def parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"WEB_LISTEN should be HOST:PORT, got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


class WebServer:
    def __init__(self, ctx: BotContext, listen: str, *, on_outbox: Callable[[], None] | None = None,
                 leadership: object | None = None):
        self.ctx = ctx
        self.host, self.port = parse_listen(listen)
        self.app = create_app(ctx, on_outbox=on_outbox, leadership=leadership)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=SHUTDOWN)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("web console on %s", self.url)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
