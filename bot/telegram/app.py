"""The Telegram side of the process: PTB Application + inbox + outbox sender + scheduler + the
handler modules' background workers. bot/process.py composes it with the web console and the
process's own workers (what `dutybot run` starts).

    runtime = Runtime(ctx, RuntimeOptions(...))   # ctx: BotContext(settings, store, catalog, schedule)
    await runtime.start()                         # ... runs until ...
    await runtime.stop()
    # in between, `await runtime.wait(stop_event)` returns on stop or when a core task died

What `start()` does, in order: sync the catalogue into the store (migrations already ran in
Store()), initialize PTB (getMe), register the command menus (setMyCommands, Chinese: the leaders'
menu for everyone, plus the office commands in each bound office member's chat), install the
catalogue's jobs in the JobQueue's APScheduler, start PTB (the scheduler paused), then start:
- the inbox processor (updates left unprocessed by a crash go first) and, with `webhook_url`, an
  aiohttp endpoint that commits each update before its 200 (bot/telegram/inbox.py), with
  `/healthz` (the web console serves it too, on WEB_LISTEN: bot/process.py);
- the outbox sender (bot/telegram/sender.py);
- the leader lease: once this process leads (at once when it is alone), `_lead` resumes the
  scheduler, catches up on reminders missed while nobody led (`ReminderScheduler.reconcile`),
  and starts the long-poll poller (without `webhook_url`) and the background workers (below).

PTB's own Updater is not used (`.updater(None)`): PTB confirms updates before handlers finish,
our inbox does not.

Handler modules: every module in bot/telegram/handlers/ with `register(app)` (see that package's
docstring). The access gate (bot/telegram/access.py) runs first, in group -1.

Background workers (for other areas: downloads, 叫应 re-calls…): in `register(app)`, do
    app.bot_data.setdefault("workers", []).append(my_worker)
where `async def my_worker(ctx: BotContext, stop: asyncio.Event) -> None` runs until `stop` is
set (wait on it, e.g. `await asyncio.wait_for(stop.wait(), timeout)` between rounds). Workers
start after the application and are awaited (then cancelled after `WORKER_GRACE` seconds) on
shutdown. An exception in a worker is logged and the worker is restarted after a pause.

Handy objects for workers and tests: `runtime.app`, `runtime.sender` (`.wake()`),
`runtime.inbox`, `runtime.reminders` (`run_job(job_id, now)`, `reconcile(now)`),
`runtime.leadership` (`.is_leader()`).

Several processes (bot/services/leadership.py, bot/store/lease.py): every process takes webhook
deliveries, works the inbox (rows are claimed) and runs the outbox sender, which sends only while
this process leads. Leader-only, started on election and stopped on deposition (`_lead`): the
APScheduler jobs (the scheduler starts paused everywhere and is resumed on the leader, as the
APScheduler 3 FAQ asks: one job store user at a time), the catch-up, the workers (叫应 ticks,
album settling, downloads) and getUpdates when polling. All of it runs inside
`leadership.fenced()`, so its commits are refused once another process leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.ext import Application, ApplicationBuilder, CommandHandler

from bot import clock
from bot.services import health, people
from bot.services.leadership import Leadership
from bot.store.db import serialize
from bot.store.lease import Term
from bot.store.sync import sync_catalog
from bot.telegram import access, handlers
from bot.telegram.context import BotContext
from bot.telegram.handlers import binding
from bot.telegram.inbox import Inbox, webhook_app
from bot.telegram.request import AiohttpRequest
from bot.telegram.scheduler import ReminderScheduler
from bot.telegram.sender import Sender

log = logging.getLogger(__name__)

Worker = Callable[[BotContext, asyncio.Event], Awaitable[None]]
WORKER_GRACE = 5.0
WORKER_RESTART = 5.0


@dataclass
class RuntimeOptions:
    webhook_url: str | None = None  # None: long polling
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str = ""  # default: settings.webhook_secret, else a random one per start
    scheduler: bool = True  # install the catalogue's jobs (tests drive jobs by hand with False)
    reconcile_on_start: bool = True
    set_commands: bool = True
    sender: dict[str, Any] = field(default_factory=dict)  # Sender(...) keyword overrides
    workers: bool = True
    # False: updates are stored but not processed (crash tests: "killed right after fetching").
    process_inbox: bool = True


def build_application(ctx: BotContext, token: str | None = None) -> tuple[Application, list]:
    """The PTB Application with the access gate and every handler module registered."""
    settings = ctx.settings
    # aiohttp instead of PTB's httpx backend: ~5x less CPU per call (bot/telegram/request.py).
    builder = (ApplicationBuilder().token(token or settings.bot_token).updater(None)
               .request(AiohttpRequest()).get_updates_request(AiohttpRequest(connection_pool_size=1)))
    if settings.api_base_url:
        builder = builder.base_url(settings.api_base_url)
    if settings.file_base_url:
        builder = builder.base_file_url(settings.file_base_url)
    app = builder.build()
    app.bot_data["ctx"] = ctx
    app.bot_data.setdefault("workers", [])
    access.install(app)
    modules = handlers.register_all(app)
    if not _has_command(app, "help"):
        app.add_handler(binding.help_handler(handlers.commands(modules), handlers.office_commands(modules)))
    return app, modules


def _has_command(app: Application, command: str) -> bool:
    return any(isinstance(h, CommandHandler) and command in h.commands
               for group in app.handlers.values() for h in group)


class Runtime:
    def __init__(self, ctx: BotContext, options: RuntimeOptions | None = None, token: str | None = None):
        self.ctx = ctx
        self.options = options or RuntimeOptions()
        self.app, self.modules = build_application(ctx, token)
        self.inbox = Inbox(ctx.store, self.app)
        # Paid broadcast: 128 rows a claim (paid ones; other rows stay 16 a claim, Sender.ordinary_batch),
        # so a claim slowed by a busy machine does not stall ~1,000 sends a second.
        paid = {"paid_broadcast": True, "max_in_flight": 256, "claim_batch": 128} if ctx.settings.paid_broadcast else {}
        ordinary = {"ordinary_in_flight": ctx.settings.outbox_in_flight}
        self.sender = Sender(ctx.store, self.app.bot, data_dir=ctx.settings.data_dir,
                             **{**ordinary, **paid, **self.options.sender})
        self.reminders = ReminderScheduler(ctx, self.app.job_queue.scheduler)
        self.leadership = Leadership(ctx.store, lease_seconds=ctx.settings.lease_seconds,
                                     renew_seconds=ctx.settings.lease_renew_seconds,
                                     on_elected=self._on_elected, on_deposed=self._on_deposed)
        self.sender.may_send = self.leadership.is_leader
        self.inbox.holder = self.sender.holder = self.leadership.holder
        self.reminders.fence = self.leadership.fenced
        self._term: tuple[asyncio.Event, asyncio.Task] | None = None
        self._failed: asyncio.Future | None = None
        self.jobs = 0
        self.stop_event: asyncio.Event | None = None
        self._tasks: dict[str, asyncio.Task] = {}
        self._web: web.AppRunner | None = None
        self.started = False

    @property
    def mode(self) -> str:
        return f"webhook {self.options.webhook_url}" if self.options.webhook_url else "long polling"

    async def start(self) -> None:
        self.stop_event = asyncio.Event()
        await asyncio.to_thread(self._sync)
        await self.app.initialize()
        if self.options.set_commands:
            await self._set_commands()
        if self.options.scheduler:
            self.jobs = self.reminders.install()
        self._failed = asyncio.get_running_loop().create_future()
        self.app.job_queue.scheduler.start(paused=True)  # resumed while this process leads
        await self.app.start()
        stop = self.stop_event
        if self.options.process_inbox:
            self._tasks["inbox-processor"] = asyncio.create_task(self.inbox.process(stop), name="inbox-processor")
        if self.options.webhook_url:
            await self._start_webhook()
        else:
            with contextlib.suppress(Exception):  # a webhook left set would make getUpdates 409
                await self.app.bot.delete_webhook(drop_pending_updates=False)
        self._tasks["outbox-sender"] = asyncio.create_task(self.sender.run(stop), name="outbox-sender")
        await self.leadership.start()  # a lone process leads from here on
        self._tasks["leadership"] = asyncio.create_task(self.leadership.run(stop), name="leadership")
        self.started = True

    async def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        assert self.stop_event is not None
        self.stop_event.set()
        await asyncio.gather(self._tasks.pop("leadership"), return_exceptions=True)
        await self.leadership.release()  # stops the leader's tasks; a follower takes over at once
        if self._term is not None:
            await asyncio.gather(self._term[1], return_exceptions=True)
        if self._web is not None:
            await self._web.cleanup()
            self._web = None
        for name, task in list(self._tasks.items()):
            try:
                await asyncio.wait_for(task, timeout=15)
            except (TimeoutError, asyncio.CancelledError):
                log.warning("%s did not stop in time; cancelled", name)
            except Exception:
                log.exception("%s failed while stopping", name)
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self.app.stop()
        await self.app.shutdown()

    async def wait(self, stop: asyncio.Event) -> None:
        """Until `stop` is set or a core task (poller, processor, sender) dies; re-raises its error."""
        stopper = asyncio.ensure_future(stop.wait())
        watched = [stopper, *self._tasks.values()] + ([self._failed] if self._failed is not None else [])
        try:
            done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        for task in done:
            if task is not stopper and not task.cancelled() and task.exception() is not None:
                raise task.exception()

    # --- leadership ---------------------------------------------------------------------------------
    def _on_elected(self, term: Term) -> None:
        term_stop = asyncio.Event()
        previous = self._term[1] if self._term is not None else None
        self._term = (term_stop, asyncio.create_task(self._lead(term, term_stop, previous), name=f"leader-{term.epoch}"))
        self.sender.wake()  # the backlog goes out now, not at the sender's next look

    def _on_deposed(self, term: Term) -> None:
        if self._term is not None:
            self._term[0].set()
        self.app.job_queue.scheduler.pause()  # at once: no job may start once we stopped leading

    async def _lead(self, term: Term, stop: asyncio.Event, previous: asyncio.Task | None = None) -> None:
        """Everything only the leader does, for one term, fenced by its epoch."""
        if previous is not None:  # the last term's poller and workers are gone before ours start
            await asyncio.gather(previous, return_exceptions=True)
        if stop.is_set():
            return
        with self.leadership.fenced(term):
            tasks: list[asyncio.Task] = []
            try:
                # A fire time that passed while nobody led is caught up here, every later one
                # fires on time (an overlap is harmless: both are idempotent).
                self.app.job_queue.scheduler.resume()
                if self.options.reconcile_on_start or self.leadership.elections > 1:
                    try:
                        await self.reminders.reconcile()
                    except Exception:
                        log.exception("catch-up on election failed; the next heartbeat retries")
                if not self.options.webhook_url:
                    poller = asyncio.create_task(self.inbox.poll(stop), name="inbox-poller")
                    poller.add_done_callback(self._poller_done)
                    tasks.append(poller)
                if self.options.workers:
                    tasks += [asyncio.create_task(self._keep_running(worker, stop), name=_name(worker))
                              for worker in self.app.bot_data.get("workers", [])]
                await stop.wait()
            finally:
                for task in tasks:  # a second getUpdates caller would make Telegram answer 409
                    if task.get_name() == "inbox-poller":
                        task.cancel()
                if tasks:
                    _, pending = await asyncio.wait(tasks, timeout=WORKER_GRACE)
                    for task in pending:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)

    def _poller_done(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None and self._failed and not self._failed.done():
            self._failed.set_exception(task.exception())  # e.g. the token was refused: stop the process

    # --- pieces -------------------------------------------------------------------------------------
    def _sync(self) -> None:
        with self.ctx.store.session() as s:
            serialize(s.connection(), "sync")  # several processes starting at once
            sync_catalog(s, self.ctx.catalog, clock.now())

    async def _set_commands(self) -> None:
        commands = [BotCommand(c, d) for c, d in handlers.commands(self.modules)]
        office_menu = commands + [BotCommand(c, d) for c, d in handlers.office_commands(self.modules)]
        self.app.bot_data["office_menu"] = office_menu  # for office members bound while running
        with self.ctx.store.session() as s:
            office_chats = [p.telegram_id for p in people.office(s) if p.telegram_id]
        try:
            await self.app.bot.set_my_commands(commands, scope=BotCommandScopeDefault())
            for chat_id in office_chats:
                await self.app.bot.set_my_commands(office_menu, scope=BotCommandScopeChat(chat_id))
        except Exception:  # the menu is a convenience; the bot works without it
            log.warning("setMyCommands failed", exc_info=True)

    async def _start_webhook(self) -> None:
        opts = self.options
        secret = opts.webhook_secret or self.ctx.settings.webhook_secret or _random_secret()
        path = urlsplit(opts.webhook_url).path or "/"
        app = webhook_app(self.inbox, path, secret)
        app.router.add_get("/healthz", self._healthz)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, opts.webhook_listen, opts.webhook_port).start()
        self._web = runner
        await self.app.bot.set_webhook(opts.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES)

    async def _healthz(self, request: web.Request) -> web.Response:
        def report() -> dict:
            with self.ctx.store.session() as s:
                return health.health(s, self.leadership)

        try:
            return web.json_response(await asyncio.to_thread(report))
        except Exception as err:
            return web.json_response({"ok": False, "leader": False, "error": type(err).__name__}, status=503)

    async def _keep_running(self, worker: Worker, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await worker(self.ctx, stop)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("worker %s failed; restarting in %.0fs", _name(worker), WORKER_RESTART)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), WORKER_RESTART)


def _name(worker: Worker) -> str:
    return f"worker:{getattr(worker, '__qualname__', repr(worker))}"


def _random_secret() -> str:
    import secrets

    return secrets.token_urlsafe(32)
