"""End-to-end fixtures: the whole bot, in-process or as a real subprocess, against the sandbox.

In-process (most tests)::

    pytest_plugins = ["support.harness"]               # the fixtures: harness, sqlite_harness, bot_processes…
    from harness import Harness, eventually  # noqa: E402

    async def test_something(harness):                 # example catalogue, SQLite and PostgreSQL
        tg = await harness.bind("王海涛")               # Person.telegram_id set, sandbox user created
        await harness.users.send_text(tg, "/help")      # act as that user (SandboxClient)
        msg = await harness.wait_for_message(tg, contains="使用说明")
        report = await harness.run_job("main-06b:open", now)   # fire a scheduler job at `now`
        await harness.reconcile(now)                    # catch-up from the watermark
        await harness.drain_outbox()                    # until every queued message is sent
        with harness.session() as s: ...                # the store

    async def test_own_catalogue(database_url, tmp_path):
        async with Harness(database_url, tmp_path, catalog_yaml=YAML, limits=Limits()) as h: ...

`Harness` starts a Sandbox in the test's event loop (`Limits.unlimited()` unless `limits=`), a
Store on `database_url` (migrated) and the full `Runtime` (bot/telegram/app.py: access gate, every
handler module, inbox poller and processor, outbox sender, workers) with `scheduler=False`: the
catalogue's jobs are not installed, so nothing fires by wall clock during a test; drive them with
`run_job(job_id, now)` / `reconcile(now)` (the first reconcile of a fresh store only opens
instances and sets the watermark; see bot/services/reminders.py). `scheduler=True` installs them.
Pass `runtime_options=RuntimeOptions(...)` for more control, `start_bot=False` to only get the
sandbox + store (then `await h.start_bot()`).

As a subprocess (crash tests)::

    proc = bot_processes(sandbox, database_url, tmp_path, duties_file=path, clock_start=when)  # fixture
    await proc.start()          # `python -m bot run`, waits for its ready line
    proc.kill()                 # SIGKILL
    await proc.stop()           # SIGTERM, waits for a clean exit
    proc.output()               # what it printed (stdout + stderr), for assertion messages

(`bot_processes` kills what a failed test left running; `BotProcess(...)` directly works too.)

`BotProcess` needs the sandbox to keep serving while the test waits, so its waits are async
(the sandbox runs in the test's loop; a `Sandbox().run_in_thread()` works as well).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlmodel import select

from bot.config import Settings
from bot.sandbox.telegram import Limits, Sandbox, SandboxClient
from bot.services.reminders import Report
from bot.store import Store
from bot.store.models import InboxUpdate, Outbox, Person
from bot.telegram.app import Runtime, RuntimeOptions
from bot.telegram.context import BotContext
from schedules import Catalog, Schedule, load_catalog, load_catalog_text
from support.sandbox_fixtures import eventually  # noqa: F401  (re-exported for the tests)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "duties.yaml"
TOKEN = "123456789:HARNESS-test-token"
FIRST_TELEGRAM_ID = 5_000_001


class Harness:
    def __init__(self, database_url: str, tmp_path: Path, *, catalog_yaml: str | None = None,
                 catalog: Catalog | None = None, limits: Limits | None = None,
                 runtime_options: RuntimeOptions | None = None, scheduler: bool = False,
                 start_bot: bool = True, allow_unknown_chats: bool = False):
        self.database_url = database_url
        self.tmp_path = Path(tmp_path)
        if catalog_yaml is not None:
            self.duties_file = self.tmp_path / "duties.yaml"
            self.duties_file.write_text(catalog_yaml, encoding="utf-8")
            self.catalog = load_catalog_text(catalog_yaml, str(self.duties_file))
        else:
            self.duties_file = EXAMPLE
            self.catalog = catalog or load_catalog(EXAMPLE)
        self.sandbox = Sandbox(limits=limits or Limits.unlimited(), token=None,
                               allow_unknown_chats=allow_unknown_chats)
        # Without Telegram's limits in the sandbox the sender need not pace either (tests stay fast);
        # with limits it paces as in production.
        fast = {"chat_interval": 0.0, "group_interval": 0.0, "global_rate": 1000.0} if limits is None else {}
        self.options = runtime_options or RuntimeOptions(scheduler=scheduler, reconcile_on_start=False,
                                                         set_commands=True, sender=fast)
        self._start_bot = start_bot
        self._next_tg = FIRST_TELEGRAM_ID
        self.users: SandboxClient | None = None
        self.store: Store | None = None
        self.ctx: BotContext | None = None
        self.runtime: Runtime | None = None

    # --- life cycle -------------------------------------------------------------------------------
    async def __aenter__(self) -> Harness:
        await self.sandbox.start()
        self.users = SandboxClient(self.sandbox.control_url)
        self.store = await asyncio.to_thread(Store, self.database_url)
        self.settings = Settings(bot_token=TOKEN, api_base_url=self.sandbox.base_url,
                                 file_base_url=self.sandbox.base_file_url, database_url=self.database_url,
                                 duties_file=str(self.duties_file), data_dir=self.tmp_path / "data")
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.ctx = BotContext(self.settings, self.store, self.catalog, Schedule(self.catalog))
        if self._start_bot:
            await self.start_bot()
        else:  # handlers and services still find people in the store
            from bot import clock
            from bot.store.sync import sync_catalog

            with self.store.session() as s:
                sync_catalog(s, self.catalog, clock.now())
        return self

    async def start_bot(self, options: RuntimeOptions | None = None) -> Runtime:
        self.runtime = Runtime(self.ctx, options or self.options)
        await self.runtime.start()
        return self.runtime

    async def stop_bot(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()
            self.runtime = None

    async def __aexit__(self, *exc) -> None:
        try:
            await self.stop_bot()
        finally:
            if self.users is not None:
                await self.users.aclose()
            await self.sandbox.stop()
            if self.store is not None:
                self.store.dispose()

    @property
    def app(self):
        return self.runtime.app

    def session(self):
        return self.store.session()

    # --- people -----------------------------------------------------------------------------------
    async def bind(self, person: str, telegram_id: int | None = None) -> int:
        """Bind a catalogue person (name or id) to a new sandbox user; returns the Telegram user id."""
        found = self.catalog.find_person(person)
        if found is None:
            raise KeyError(person)
        tg = telegram_id or self._new_telegram_id()
        with self.store.session() as s:
            row = s.get(Person, found.id)
            row.telegram_id = tg
        await self.users.create_users([{"id": tg, "first_name": found.name}])
        return tg

    async def stranger(self, first_name: str = "陌生人") -> int:
        """A sandbox user bound to nobody."""
        tg = self._new_telegram_id()
        await self.users.create_users([{"id": tg, "first_name": first_name}])
        return tg

    def _new_telegram_id(self) -> int:
        tg = self._next_tg
        self._next_tg += 1
        return tg

    def telegram_id(self, person: str) -> int | None:
        found = self.catalog.find_person(person)
        with self.store.session() as s:
            row = s.get(Person, found.id) if found else None
            return row.telegram_id if row else None

    # --- the scheduler ------------------------------------------------------------------------------
    async def run_job(self, job_id: str, now: datetime) -> Report:
        """Run one catalogue job (e.g. "main-06b:remind:-3d") as if it fired at `now`."""
        return await self.runtime.reminders.run_job(job_id, now)

    async def reconcile(self, now: datetime) -> Report:
        return await self.runtime.reminders.reconcile(now)

    def job_ids(self, action: str | None = None) -> list[str]:
        return [j for j, spec in self.runtime.reminders.specs.items() if action is None or spec.action == action]

    # --- waiting ------------------------------------------------------------------------------------
    async def wait_for_message(self, chat_id: int | None = None, contains: str | None = None, *,
                               predicate: Callable[[dict], bool] | None = None, since: int = 0,
                               timeout: float = 10.0) -> dict:
        """The first bot message in the sandbox matching chat_id / contains / predicate."""
        return await self.users.wait_for(predicate, chat_id=chat_id, contains=contains, since=since,
                                         timeout=timeout)

    async def wait_for_messages(self, count: int, chat_id: int | None = None, *, since: int = 0,
                                predicate: Callable[[dict], bool] | None = None, timeout: float = 10.0) -> list[dict]:
        return await self.users.wait_for_messages(count, chat_id=chat_id, since=since, predicate=predicate,
                                                  timeout=timeout)

    async def messages(self, chat_id: int | None = None, since: int = 0) -> list[dict]:
        return await self.users.messages(chat_id, since)

    async def cursor(self) -> int:
        """The sandbox's latest message seq: pass as `since` to see only what comes after."""
        msgs = await self.users.messages()
        return max((m.get("seq", 0) for m in msgs), default=0)

    def outbox_left(self) -> int:
        with self.store.session() as s:
            return len(s.exec(select(Outbox.id).where(Outbox.state.in_(["pending", "sending"]))).all())  # type: ignore[attr-defined]

    async def drain_outbox(self, timeout: float = 15.0) -> None:
        """Wait until no outbox row is pending or being sent, counting rows held back (a retry's
        backoff, a 429's retry_after) if they fall due within `timeout`; rows deliberately
        scheduled later than that (a snooze in two hours) do not count."""
        from datetime import timedelta

        from bot import clock

        horizon = clock.now() + timedelta(seconds=timeout)

        def done() -> bool:
            with self.store.session() as s:
                return s.exec(select(Outbox.id).where(Outbox.state.in_(["pending", "sending"]),  # type: ignore[attr-defined]
                                                      Outbox.not_before <= horizon).limit(1)).first() is None

        if self.runtime is not None:
            self.runtime.sender.wake()
        await eventually(done, timeout, "outbox drained")

    async def wait_inbox_idle(self, timeout: float = 10.0) -> None:
        """Wait until every stored update has been processed (sandbox updates fetched, too)."""
        def idle() -> bool:
            pending = self.sandbox.world.updates.pending
            if pending:
                return False
            with self.store.session() as s:
                return s.exec(select(InboxUpdate.id).where(InboxUpdate.state == "new").limit(1)).first() is None

        await eventually(idle, timeout, "inbox processed")

    async def wait_update_processed(self, update_id: int, timeout: float = 10.0) -> InboxUpdate:
        def row() -> InboxUpdate | None:
            with self.store.session() as s:
                found = s.exec(select(InboxUpdate).where(InboxUpdate.update_id == update_id)).first()
                return found if found is not None and found.state != "new" else None

        return await eventually(row, timeout, f"update {update_id} processed")


@pytest_asyncio.fixture
async def harness(database_url, tmp_path):
    """The whole bot against a sandbox (no limits), the example catalogue, SQLite and PostgreSQL."""
    async with Harness(database_url, tmp_path) as h:
        yield h


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A fresh SQLite database, for tests where the backend does not matter (keeps the suite fast)."""
    return f"sqlite:///{tmp_path}/dutybot.db"


@pytest_asyncio.fixture
async def sqlite_harness(sqlite_url, tmp_path):
    """`harness` on SQLite only."""
    async with Harness(sqlite_url, tmp_path) as h:
        yield h


# ------------------------------------------------------------------------------------------------
# the bot as a real process
# ------------------------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def limited_sandbox() -> AsyncIterator[Sandbox]:
    """A sandbox with Telegram's flood limits that accepts unknown chats, its control client as `.users`
    (for a module's own `sandbox` fixture: `async with limited_sandbox() as sb: yield sb`)."""
    sb = Sandbox(limits=Limits(), token=None, allow_unknown_chats=True)
    await sb.start()
    async with SandboxClient(sb.control_url) as users:
        sb.users = users
        yield sb
    await sb.stop()


READY_MARK = "ready:"
_LIVE: set[BotProcess] = set()


@atexit.register
def _kill_leftovers() -> None:  # a failed test must not leave a bot running
    for proc in list(_LIVE):
        proc.kill()


class BotProcess:
    """`python -m bot run` in a subprocess, pointed at a sandbox and a database."""

    def __init__(self, sandbox: Sandbox, database_url: str, tmp_path: Path, *, duties_file: Path | str = EXAMPLE,
                 clock_start: datetime | None = None, args: list[str] | None = None,
                 env: dict[str, str] | None = None, token: str = TOKEN):
        self.sandbox = sandbox
        self.database_url = database_url
        self.data_dir = Path(tmp_path) / "data"
        self.duties_file = str(duties_file)
        self.clock_start = clock_start
        self.args = args or []
        self.extra_env = env or {}
        self.token = token
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []
        self._reader: threading.Thread | None = None
        self.runs = 0

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "bot", "--duties", self.duties_file, "run"]
        if self.clock_start is not None:
            cmd += ["--clock-start", self.clock_start.isoformat()]
        return cmd + self.args

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_", "DATABASE_"))}
        env.update(BOT_TOKEN=self.token, TELEGRAM_API_BASE_URL=self.sandbox.base_url,
                   TELEGRAM_FILE_BASE_URL=self.sandbox.base_file_url, DATABASE_URL=self.database_url,
                   DUTIES_FILE=self.duties_file, DATA_DIR=str(self.data_dir), PYTHONUNBUFFERED="1",
                   PYTHONPATH=str(ROOT), WEB_LISTEN="127.0.0.1:0")  # the console on a free port
        env.update(self.extra_env)
        return env

    async def start(self, timeout: float = 30.0) -> BotProcess:
        self.runs += 1
        self.lines.append(f"--- run {self.runs}: {' '.join(self.command())}")
        self.proc = subprocess.Popen(self.command(), env=self.environment(), cwd=str(ROOT), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        _LIVE.add(self)
        mark = len(self.lines)
        self._reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self._reader.start()

        def ready() -> bool:
            if self.proc.poll() is not None:
                pytest.fail(f"the bot exited with {self.proc.returncode}:\n{self.output()}")
            return any(READY_MARK in line for line in self.lines[mark:])

        await eventually(ready, timeout, f"bot ready\n{self.output()}", interval=0.05)
        return self

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as in a power cut."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        _LIVE.discard(self)

    async def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait for a clean exit; returns the exit code."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            await eventually(lambda: self.proc.poll() is not None, timeout, f"bot exit\n{self.output()}",
                             interval=0.05)
        finally:
            self.kill()
        return self.proc.returncode

    def output(self) -> str:
        return "\n".join(self.lines[-200:])

    async def __aenter__(self) -> BotProcess:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        self.kill()


@pytest.fixture
def bot_processes():
    """A factory for BotProcess that kills whatever is still running when the test ends."""
    made: list[BotProcess] = []

    def make(*args: Any, **kwargs: Any) -> BotProcess:
        proc = BotProcess(*args, **kwargs)
        made.append(proc)
        return proc

    yield make
    for proc in made:
        proc.kill()


def settings_for(sandbox: Sandbox, database_url: str, tmp_path: Path, **changes: Any) -> Settings:
    base = Settings(bot_token=TOKEN, api_base_url=sandbox.base_url, file_base_url=sandbox.base_file_url,
                    database_url=database_url, data_dir=Path(tmp_path) / "data")
    return replace(base, **changes)
