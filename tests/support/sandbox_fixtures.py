"""Pytest fixtures for the Telegram sandbox, usable from any test module:

    pytest_plugins = ["support.sandbox_fixtures"]

``sandbox`` is a started Sandbox (no flood limits: tests that want them call
``set_limits(Limits())``; any token accepted), ``sandbox_client``
its async control client, ``sandbox_bot`` an initialized PTB Bot pointed at it, once with PTB's
own HTTP backend (httpx) and once with the bot's (bot/telegram/request.py, aiohttp): the same
calls must give the same results and the same errors through both."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.sandbox.telegram import Limits, Sandbox, SandboxClient
from bot.telegram.request import AiohttpRequest

TOKEN = "123456789:SANDBOX-test-token"


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox(limits=Limits.unlimited(), token=None)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


@pytest_asyncio.fixture
async def sandbox_client(sandbox: Sandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(sandbox.control_url) as client:
        yield client


BACKENDS = {"httpx": HTTPXRequest, "aiohttp": AiohttpRequest}


def make_bot(sb: Sandbox, token: str = TOKEN, pool: int = 64, backend: str = "httpx") -> Bot:
    request = BACKENDS[backend]
    return Bot(
        token,
        base_url=sb.base_url,
        base_file_url=sb.base_file_url,
        request=request(connection_pool_size=pool),
        get_updates_request=request(connection_pool_size=2),
    )


@pytest.fixture(params=list(BACKENDS))
def request_backend(request) -> str:
    return request.param


@pytest_asyncio.fixture
async def sandbox_bot(sandbox: Sandbox, request_backend: str) -> AsyncIterator[Bot]:
    bot = make_bot(sandbox, backend=request_backend)
    async with bot:
        yield bot


async def eventually(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition",
                     interval: float = 0.02) -> Any:
    """Poll `condition` (sync, or async returning an awaitable) until truthy, with a deadline: for
    state with no notification to await. Returns the truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not reached within {timeout}s")
        await asyncio.sleep(interval)
