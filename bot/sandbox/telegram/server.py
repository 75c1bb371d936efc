"""The Sandbox: an aiohttp server speaking the Bot API plus a control API for tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

from aiohttp import web

from .botapi import BotApi
from .control import ControlApi
from .faults import FaultInjector
from .limits import Limits, RateLimiter
from .page import ChatPage
from .params import ApiError, read_params
from .webhook import WebhookDelivery
from .world import World

log = logging.getLogger(__name__)

def _json_response(body: dict, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        status=status,
        content_type="application/json",
    )


class Sandbox:
    """A fake Telegram Bot API server on a real socket.

    ``token=None`` accepts any token; otherwise other tokens get 401 Unauthorized like Telegram.
    All state is in memory and belongs to the event loop the sandbox was started on: from other
    threads, go through the HTTP control API (``SyncSandboxClient``), not the attributes.
    """

    def __init__(
        self,
        limits: Limits | None = None,
        bot_username: str = "dutybot_sandbox_bot",
        token: str | None = None,
        *,
        bot_name: str = "DutyBot Sandbox",
        bot_id: int | None = None,
        allow_unknown_chats: bool = False,
        webhook_retry_base: float = 0.05,
        webhook_retry_max: float = 2.0,
        webhook_timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.initial_limits = limits or Limits()
        self.initial_allow_unknown_chats = allow_unknown_chats
        if bot_id is None:
            prefix = (token or "").split(":", 1)[0]
            bot_id = int(prefix) if prefix.isdigit() else 7000000001
        self.world = World(bot_id, bot_username, bot_name)
        self.world.allow_unknown_chats = allow_unknown_chats
        self.limiter = RateLimiter(self.initial_limits, clock=clock)  # a fake clock makes limit tests exact
        self.faults = FaultInjector()
        self.webhook = WebhookDelivery(
            self.world.updates, retry_base=webhook_retry_base, retry_max=webhook_retry_max,
            timeout=webhook_timeout,
        )
        self.api = BotApi(self)
        self.control = ControlApi(self)
        self.page = ChatPage(self)  # the browser chat at "/"
        self.requests: Counter[str] = Counter()
        self.errors: Counter[int] = Counter()
        self.closing = False
        self._closing_event: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self.host: str | None = None
        self.port: int | None = None

    # --- URLs ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the sandbox is not started")
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    @property
    def control_url(self) -> str:
        return f"{self.url}/_sandbox"

    @property
    def page_url(self) -> str:
        return f"{self.url}/"

    def urls(self) -> dict:
        return {"base_url": self.base_url, "base_file_url": self.base_file_url, "control_url": self.control_url,
                "page_url": self.page_url}

    # --- lifecycle ----------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self.control.add_routes(app.router, "/_sandbox")
        self.page.add_routes(app.router)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> Sandbox:
        if self._runner is not None:
            raise RuntimeError("the sandbox is already started")
        self.closing = False
        self._closing_event = asyncio.Event()
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        sockets = runner.addresses
        self.host = host
        self.port = sockets[0][1]
        log.info("Telegram sandbox listening on %s", self.url)
        return self

    async def stop(self) -> None:
        if self._runner is None:
            return
        self.closing = True
        if self._closing_event is not None:
            self._closing_event.set()
        async with self.world.updates.changed:  # long polls answer now instead of at their timeout
            self.world.updates.changed.notify_all()
        await self.world.touch()  # waiters on a change (control API, chat page feeds) answer now
        await self.webhook.close()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Sandbox:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    def run_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> _ThreadedSandbox:
        """``with Sandbox().run_in_thread() as sb:`` serves from its own loop in a daemon thread."""
        return _ThreadedSandbox(self, host, port)

    def client(self):
        from .client import SandboxClient

        return SandboxClient(self.control_url)

    def sync_client(self):
        from .client import SyncSandboxClient

        return SyncSandboxClient(self.control_url)

    async def reset(self) -> None:
        """Back to the state right after construction (update ids and message cursors keep growing)."""
        self.world.reset()
        self.page.forget()
        self.world.allow_unknown_chats = self.initial_allow_unknown_chats
        self.limiter.set_limits(self.initial_limits)
        self.limiter.reset_stats()
        self.faults.clear()
        self.faults.served = 0
        self.requests.clear()
        self.errors.clear()
        self.world.updates.allowed = None
        self.world.updates.created = self.world.updates.delivered = 0
        await self.webhook.configure(None, None)
        self.webhook.deliveries = self.webhook.failures = 0
        await self.world.touch()

    async def sleep_unless_closing(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing_event.wait(), seconds)

    # --- HTTP handlers ------------------------------------------------------------------------

    def _token_error(self, token: str) -> web.Response | None:
        if not token:
            return _json_response({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        if self.token is not None and token != self.token:
            return _json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        return None

    async def _handle_api(self, request: web.Request) -> web.Response:
        denied = self._token_error(request.match_info["token"])
        if denied is not None:
            return denied
        method = request.match_info["method"]
        found = self.api.lookup(method)
        self.requests[found[0] if found else method] += 1
        try:
            params = await read_params(request)
            fault = self.faults.pick(method)
            if fault is not None:
                if fault.hang:
                    await self.sleep_unless_closing(fault.hang)
                if not fault.process_after_hang:
                    self.errors[fault.status] += 1
                    return _json_response(fault.body, fault.status)
            if found is None:
                raise ApiError(404, "Not Found: method not found")
            result = await found[1](params)
        except ApiError as err:
            self.errors[err.code] += 1
            return _json_response(err.to_json(), err.code)
        except Exception as err:  # a sandbox bug: say so in Telegram's shape instead of a bare 500 page
            log.exception("sandbox failed on %s", method)
            self.errors[500] += 1
            body = {"ok": False, "error_code": 500, "description": f"Internal Server Error: sandbox bug: {err!r}"}
            return _json_response(body, 500)
        return _json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        denied = self._token_error(request.match_info["token"])
        if denied is not None:
            return denied
        stored = self.world.files.by_path(request.match_info["path"])
        if stored is None or stored.size > 20 * 1024 * 1024:
            return _json_response({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    def stats(self) -> dict:
        queue = self.world.updates
        return {
            "requests": dict(self.requests),
            "requests_total": sum(self.requests.values()),
            "errors_by_code": {str(k): v for k, v in self.errors.items()},
            **self.limiter.stats.to_dict(),
            "faults_served": self.faults.served,
            "updates_created": queue.created,
            "updates_delivered": queue.delivered,
            "updates_pending": len(queue.pending),
            "webhook_deliveries": self.webhook.deliveries,
            "webhook_failures": self.webhook.failures,
            "bot_messages": len(self.world.bot_messages),
            "known_chats": len(self.world.chats),
        }


class _ThreadedSandbox:
    def __init__(self, sandbox: Sandbox, host: str, port: int) -> None:
        self.sandbox = sandbox
        self.host, self.port = host, port
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None

    def __enter__(self) -> Sandbox:
        started = threading.Event()
        failure: list[BaseException] = []
        self.loop = asyncio.new_event_loop()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                self.loop.run_until_complete(self.sandbox.start(self.host, self.port))
            except BaseException as err:  # reported to the caller of __enter__
                failure.append(err)
                started.set()
                return
            started.set()
            self.loop.run_forever()
            self.loop.run_until_complete(self.sandbox.stop())
            self.loop.close()

        self.thread = threading.Thread(target=serve, name="telegram-sandbox", daemon=True)
        self.thread.start()
        started.wait()
        if failure:
            raise failure[0]
        return self.sandbox

    def __exit__(self, *exc) -> None:
        assert self.loop is not None and self.thread is not None
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    def call(self, coro) -> object:
        """Run a coroutine on the sandbox's loop from another thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()
