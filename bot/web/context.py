"""What every view needs: the bot's context (settings, store, catalogue) and a store session."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from aiohttp import web

from bot.telegram.context import BotContext

CTX = web.AppKey("ctx", BotContext)
# Called after a view queued messages (the process's sender wakes up instead of polling).
ON_OUTBOX = web.AppKey("on_outbox", Callable[[], None])
# The bot's Leadership when the console runs in a bot process (/healthz says whether it leads).
LEADERSHIP = web.AppKey("leadership", object)

T = TypeVar("T")


def ctx(request: web.Request) -> BotContext:
    return request.app[CTX]


async def db(request: web.Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """fn(session, *args, **kwargs) in a worker thread, committed on success."""
    store = ctx(request).store

    def call() -> T:
        with store.session() as s:
            return fn(s, *args, **kwargs)

    return await asyncio.to_thread(call)


def outbox_changed(request: web.Request) -> None:
    wake = request.app.get(ON_OUTBOX)
    if wake is not None:
        wake()


def redirect(location: str) -> web.Response:
    """303 See Other (after a POST the browser GETs the target), as a response cookies can be set on."""
    return web.Response(status=303, headers={"Location": location})


CONTENT_TYPES = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 ".csv": "text/csv; charset=utf-8", ".zip": "application/zip"}


async def send_file(request: web.Request, path: str | Path, filename: str, chunk: int = 1 << 20) -> web.StreamResponse:
    """A file of any size as a download, read in chunks off the loop."""
    path = Path(path)
    size = await asyncio.to_thread(lambda: path.stat().st_size)
    response = web.StreamResponse(headers={
        "Content-Type": CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "Content-Length": str(size)})
    await response.prepare(request)
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while data := await asyncio.to_thread(handle.read, chunk):
            await response.write(data)
    finally:
        await asyncio.to_thread(handle.close)
    await response.write_eof()
    return response
