"""The web console in a test: the harness's bot (sandbox + store + Runtime) plus a WebServer on a
free port in the same loop, and a browser page signed in as someone.

    pytest_plugins = ["support.harness", "support.browser", "support.web_fixtures"]

    async def test_page(web, page):
        await web.sign_in(page, "孙丽")                # a one-time link, opened and confirmed
        await page.goto(web.url + "/overdue")

`web.link(name)` makes a link without opening it; `web.http` is an aiohttp client session
(no cookies) for requests a browser would not make. The process's workers (export jobs) run too.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import aiohttp
import pytest_asyncio

from bot import clock
from bot.process import process_workers
from bot.services import signin
from bot.web.app import WebServer


class WebConsole:
    def __init__(self, harness, server: WebServer):
        self.harness = harness
        self.server = server
        self.http: aiohttp.ClientSession | None = None
        self.stop = asyncio.Event()
        self.workers: list[asyncio.Task] = []

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.workers, return_exceptions=True)
        await self.http.close()
        await self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def person_id(self, name: str) -> str:
        return self.harness.catalog.find_person(name).id

    def link(self, name: str) -> str:
        with self.harness.session() as s:
            token = signin.create_link(s, self.person_id(name), clock.now(), via="test")
        return signin.link_url(self.url, token)

    async def sign_in(self, page, name: str) -> None:
        await page.goto(self.link(name))
        await page.get_by_role("button", name="登录").click()
        await page.wait_for_url(lambda u: "/login/" not in u)


async def start_console(harness) -> WebConsole:
    wake = harness.runtime.sender.wake if harness.runtime is not None else None
    server = WebServer(harness.ctx, "127.0.0.1:0", on_outbox=wake)
    await server.start()
    harness.ctx.settings = replace(harness.ctx.settings, web_base_url=server.url)  # links from /web
    console = WebConsole(harness, server)
    console.http = aiohttp.ClientSession()
    # The process's own workers (export jobs), as bot/process.py runs them next to the console.
    console.workers = [asyncio.create_task(w(harness.ctx, console.stop)) for w in process_workers()]
    return console


@pytest_asyncio.fixture
async def web(sqlite_harness):
    """The console over `sqlite_harness` (browser tests: SQLite only keeps them fast)."""
    console = await start_console(sqlite_harness)
    yield console
    await console.close()


@pytest_asyncio.fixture
async def web_all(harness):
    """The console over `harness` (SQLite and PostgreSQL)."""
    console = await start_console(harness)
    yield console
    await console.close()
