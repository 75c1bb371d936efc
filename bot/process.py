"""The composition root: what one dutybot process runs, in one asyncio loop.

    process = Process(ctx, ProcessOptions(runtime=RuntimeOptions(...), web_listen="127.0.0.1:8080"))
    await process.start()
    await process.wait(stop_event)      # until stop, or until a core task of the bot died
    await process.stop()

- the Telegram side (`bot.telegram.app.Runtime`: PTB, inbox, outbox sender, scheduler, the
  handler modules' workers), unless `telegram=False` (`dutybot web`: the console alone, next to a
  bot process on the same store);
- the web console (`bot.web.app.WebServer`) on `web_listen` (None: not served); messages it
  queues wake the sender at once when the bot runs in the same process, and are picked up by the
  other process's sender otherwise;
- the process's own workers (`PROCESS_WORKERS`: export jobs), which both kinds of process run,
  because an export started from the console must finish whichever process serves it. They follow
  the Runtime's worker contract: `async def worker(ctx, stop)`, restarted after a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from dataclasses import dataclass, field, replace

from bot.telegram.app import Runtime, RuntimeOptions, Worker
from bot.telegram.context import BotContext

log = logging.getLogger(__name__)
RESTART = 5.0
GRACE = 5.0


def process_workers() -> list[Worker]:
    from bot.services import export_jobs

    return [export_jobs.worker]


@contextlib.contextmanager
def settled_heap():
    """While a started process runs: every object alive at its start (catalogue, people, templates,
    PTB, SQLAlchemy's metadata) is out of the garbage collector's reach. A full collection walks
    every tracked object; in a console over 10,000 people that was a 90-120 ms pause every few
    seconds under load, the single slow samples of /overdue on PostgreSQL (bench/RESULTS.md).
    Frozen, a full collection walks only what was made since. For the commands that run a process
    (run, web), not Process.start, and undone at the end: a test that starts processes must go on
    collecting its garbage."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@dataclass
class ProcessOptions:
    telegram: bool = True
    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)
    web_listen: str | None = None
    # False (`dutybot run`): a console that cannot listen is reported and the bot runs on without
    # it (leaders' reminders matter more); True (`dutybot web`): the error stops the process.
    web_required: bool = False
    workers: bool = True


class Process:
    def __init__(self, ctx: BotContext, options: ProcessOptions | None = None, token: str | None = None):
        from bot.web.app import WebServer

        self.ctx = ctx
        self.options = options or ProcessOptions()
        self.runtime = Runtime(ctx, self.options.runtime, token) if self.options.telegram else None
        wake = self.runtime.sender.wake if self.runtime is not None else None
        leadership = self.runtime.leadership if self.runtime is not None else None
        self.web = (WebServer(ctx, self.options.web_listen, on_outbox=wake, leadership=leadership)
                    if self.options.web_listen else None)
        self.web_error: OSError | None = None
        self._stop = asyncio.Event()
        self._workers: list[asyncio.Task] = []

    async def start(self) -> None:
        if self.runtime is not None:
            await self.runtime.start()
        if self.web is not None:
            await self._start_web()
        if self.options.workers:
            for worker in process_workers():
                self._workers.append(asyncio.create_task(self._keep_running(worker),
                                                         name=f"worker:{worker.__qualname__}"))

    async def _start_web(self) -> None:
        assert self.web is not None
        try:
            await self.web.start()
        except OSError as err:
            if self.options.web_required:
                await self.stop()
                raise
            log.error("the web console cannot listen on %s:%s (%s); the bot runs without it",
                      self.web.host, self.web.port, err)
            self.web_error = err
            self.web = None
            return
        settings = self.ctx.settings
        if not settings.web_base_url and settings.web_url != self.web.url:  # port 0: links use the real port
            self.ctx.settings = replace(settings, web_base_url=self.web.url)

    async def wait(self, stop: asyncio.Event) -> None:
        if self.runtime is not None:
            await self.runtime.wait(stop)
        else:
            await stop.wait()

    async def stop(self) -> None:
        self._stop.set()
        if self._workers:
            _, pending = await asyncio.wait(self._workers, timeout=GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)
            self._workers.clear()
        if self.web is not None:
            await self.web.stop()
        if self.runtime is not None:
            await self.runtime.stop()

    async def _keep_running(self, worker: Worker) -> None:
        while not self._stop.is_set():
            try:
                await worker(self.ctx, self._stop)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("worker %s failed; restarting in %.0fs", worker.__qualname__, RESTART)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), RESTART)
