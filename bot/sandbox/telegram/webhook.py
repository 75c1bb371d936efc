"""Webhook delivery: each pending update is POSTed, in order, until the receiver answers 200."""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp

from .world import UpdateQueue


class WebhookDelivery:
    """One sender task per configured URL. Updates go out one at a time in update_id order (Telegram
    may use several connections; ordering is the property bots rely on). A failed POST is retried
    with exponential backoff from ``retry_base`` to ``retry_max`` seconds."""

    def __init__(self, queue: UpdateQueue, *, retry_base: float = 0.05, retry_max: float = 2.0,
                 timeout: float = 10.0) -> None:
        self.queue = queue
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.timeout = timeout
        self.url: str | None = None
        self.secret: str | None = None
        self.max_connections = 40
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self.deliveries = 0
        self.failures = 0
        self._task: asyncio.Task | None = None
        self._session: aiohttp.ClientSession | None = None

    async def configure(self, url: str | None, secret: str | None, max_connections: int = 40) -> None:
        await self._stop_task()
        self.url, self.secret, self.max_connections = url, secret, max_connections
        self.last_error_date = self.last_error_message = None
        if url:
            self._task = asyncio.create_task(self._run(url, secret), name="sandbox-webhook")

    def info(self, queue: UpdateQueue) -> dict:
        out = {
            "url": self.url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(queue.pending),
        }
        if self.url:
            out["max_connections"] = self.max_connections
            out["ip_address"] = "127.0.0.1"
            if queue.allowed:
                out["allowed_updates"] = sorted(queue.allowed)
        if self.last_error_date:
            out["last_error_date"] = self.last_error_date
            out["last_error_message"] = self.last_error_message
        return out

    async def close(self) -> None:
        await self._stop_task()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _stop_task(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _next_update(self) -> dict:
        queue = self.queue
        async with queue.changed:
            while True:
                queue.pending = [u for u in queue.pending if queue.is_allowed(u)]
                if queue.pending:
                    return queue.pending[0]
                await queue.changed.wait()

    async def _run(self, url: str, secret: str | None) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        backoff = self.retry_base
        while True:
            update = await self._next_update()
            error = await self._post(url, headers, update)
            if error is None:
                self.deliveries += 1
                self.queue.delivered += 1
                self.queue.drop(update["update_id"])
                backoff = self.retry_base
                continue
            self.failures += 1
            self.last_error_date = int(time.time())
            self.last_error_message = error
            await asyncio.sleep(backoff)  # the retry schedule itself, not a wait for work
            backoff = min(backoff * 2, self.retry_max)

    async def _post(self, url: str, headers: dict, update: dict) -> str | None:
        try:
            async with self._session.post(
                url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=self.timeout)
            ) as resp:
                await resp.read()
                if resp.status == 200:
                    return None
                return f"Wrong response from the webhook: {resp.status} {resp.reason}"
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientError as err:
            return f"Connection failed: {err.__class__.__name__}"
