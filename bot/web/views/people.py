"""/people/{id} 履职档案 (the person and the office), its zip, and evidence files served by id."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from datetime import date
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from bot import clock
from bot.services import assessment, export, record, thumbnails
from bot.texts import web as T
from bot.web import render
from bot.web.context import ctx, db, send_file
from bot.web.errors import BadInput, NotFound, row_id
from bot.web.security import Refusal, owner_or_office, person

routes = web.RouteTableDef()


def _year(request: web.Request) -> int:
    value = request.query.get("year", "")
    if not value:
        return clock.now().astimezone(ctx(request).settings.zone).year
    if not (value.isascii() and value.isdigit() and len(value) == 4 and 2000 <= int(value) <= 2100):
        raise BadInput(T.BAD_YEAR.format(value=value))
    return int(value)


@routes.get("/people/{id}")
@person
async def person_page(request: web.Request) -> web.Response:
    person_id = request.match_info["id"]
    owner_or_office(request, person_id)
    year = _year(request)
    found = await db(request, record.record, person_id, year, ctx(request).settings.zone)
    if found is None:
        raise NotFound(T.PERSON_NOT_FOUND)
    return render.page(request, "person.html", title=f"{found.person.name} · {T.RECORD_TITLE}", r=found,
                       is_image=record.is_image, quote=quote)


@routes.get("/people/{id}/archive.zip")
@person
async def archive(request: web.Request) -> web.StreamResponse:
    person_id = request.match_info["id"]
    owner_or_office(request, person_id)
    year = _year(request)
    c = ctx(request)
    found = await db(request, lambda s: record.record(s, person_id, year, c.settings.zone))
    if found is None:
        raise NotFound(T.PERSON_NOT_FOUND)
    handle, path = tempfile.mkstemp(suffix=".zip", prefix="dutybot-archive-")
    os.close(handle)
    try:
        await asyncio.to_thread(
            export.write_archive, c.store, path, person_id, date(year, 1, 1), date(year, 12, 31), clock.now(),
            data_dir=c.settings.data_dir, tz=c.settings.zone, weights=assessment.weights_of(c.catalog),
            policy=assessment.policy_from(c.catalog))
        name = f"履职档案_{export.safe_name(found.person.name)}_{year}.zip"
        return await send_file(request, path, name)
    finally:
        with contextlib.suppress(OSError):
            await asyncio.to_thread(os.unlink, path)


async def _evidence(request: web.Request):
    found = await db(request, record.evidence_owner, row_id(request, T.EVIDENCE_NOT_FOUND))
    if found is None:
        raise NotFound(T.EVIDENCE_NOT_FOUND)
    ev, owner = found
    me = owner_or_office(request, owner or "")
    if not me.is_office and owner is None:
        raise Refusal(403, "not_owner")
    # The path comes from the store (content-addressed under DATA_DIR), never from the request.
    source = Path(ctx(request).settings.data_dir) / ev.path
    return ev, source


@routes.get("/evidence/{id}")
@person
async def evidence_file(request: web.Request) -> web.StreamResponse:
    ev, source = await _evidence(request)
    if not await asyncio.to_thread(source.is_file):
        raise NotFound(T.EVIDENCE_MISSING)
    return web.FileResponse(source, headers={"Content-Type": ev.mime or "application/octet-stream",
                                             "Cache-Control": "private, max-age=86400"})


@routes.get("/evidence/{id}/thumb")
@person
async def evidence_thumb(request: web.Request) -> web.StreamResponse:
    ev, source = await _evidence(request)
    thumb = await asyncio.to_thread(thumbnails.thumbnail, ctx(request).settings.data_dir, ev.sha256, source)
    if thumb is None:
        raise NotFound(T.EVIDENCE_MISSING)
    return web.FileResponse(thumb, headers={"Content-Type": "image/jpeg", "Cache-Control": "private, max-age=86400"})
