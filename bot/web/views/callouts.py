"""/callouts 叫应: issue a warning (level, units, text, photo), the list of warnings; /callouts/{id}
the live board of one (per recipient), polled by a few lines of JS through /callouts/{id}/status;
解除 with the closing summary. The work is bot/services/live_board.py and the callouts package."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlmodel import select

from bot import clock
from bot.services import callouts, live_board
from bot.services.callouts.render import duration as render_duration
from bot.store.models import Callout, Unit
from bot.texts import console as C
from bot.web import render
from bot.web.context import ctx, db, outbox_changed, redirect
from bot.web.errors import BadInput, NotFound, row_id
from bot.web.security import current

routes = web.RouteTableDef()
NAV = [(40, "/callouts", C.NAV_CALLOUTS)]


def _units(s) -> list[tuple[str, str]]:
    return [(u.id, u.name) for u in s.exec(select(Unit).where(Unit.retired_at.is_(None)).order_by(Unit.id))]  # type: ignore[union-attr]


async def _list_page(request: web.Request, *, status: int = 200, error: str = "", values: dict | None = None):
    c = ctx(request)

    def load(s):
        return live_board.listing(s), _units(s)

    found, units = await db(request, load)
    values = values or {"level": "", "units": [], "hazard": "", "text": ""}
    return render.page(request, "callouts.html", status=status, title=C.CALLOUTS_TITLE, found=found, units=units,
                       levels=live_board.levels(c.catalog), error=error, values=values)


@routes.get("/callouts")
async def callouts_page(request: web.Request) -> web.Response:
    return await _list_page(request)


@routes.post("/callouts")
async def issue(request: web.Request) -> web.Response:
    form = await request.post()
    c = ctx(request)
    me = current(request)
    values = {"level": str(form.get("level", "")), "units": [str(u) for u in form.getall("units", [])],
              "hazard": str(form.get("hazard", "")), "text": str(form.get("text", ""))}
    photo = form.get("photo")
    try:
        attachment = None
        if isinstance(photo, web.FileField) and photo.filename:
            data = await asyncio.to_thread(photo.file.read)
            if data:
                attachment = await asyncio.to_thread(live_board.store_photo, data, photo.filename,
                                                     c.settings.data_dir)
        callout = await db(request, live_board.issue, c.catalog, issuer_id=me.person_id, level=values["level"],
                           units=values["units"], hazard=values["hazard"], text=values["text"], now=clock.now(),
                           attachment=attachment)
    except callouts.CalloutError as e:
        return await _list_page(request, status=400, error=str(e), values=values)
    outbox_changed(request)
    return redirect(f"/callouts/{callout.id}")


def _id(request: web.Request) -> int:
    return row_id(request, C.CALLOUT_NOT_FOUND)


async def _board(request: web.Request) -> live_board.Board:
    found = await db(request, live_board.board, _id(request))
    if found is None:
        raise NotFound(C.CALLOUT_NOT_FOUND)
    return found


@routes.get("/callouts/{id}")
async def board_page(request: web.Request) -> web.Response:
    b = await _board(request)
    return render.page(request, "callout.html", title=C.BOARD_TITLE.format(level=b.header["level"],
                       hazard=b.header["hazard"] or "—"), b=b, duration=render_duration)


@routes.get("/callouts/{id}/status")
async def board_status(request: web.Request) -> web.Response:
    """{"v": version} when the page is up to date (`?v=` is its version), else also the new board's
    HTML (the fragment the page shows) and whether the warning is lifted."""
    b = await _board(request)
    body: dict = {"v": b.version, "lifted": b.callout.lifted_at is not None}
    if request.query.get("v") != b.version:
        body["html"] = render.html(request, "_board.html", b=b, duration=render_duration)
    return web.json_response(body)


@routes.post("/callouts/{id}/lift")
async def lift(request: web.Request) -> web.Response:
    callout_id = _id(request)
    me = current(request)

    def run(s):
        if s.get(Callout, callout_id) is None:
            raise NotFound(C.CALLOUT_NOT_FOUND)
        return callouts.lift(s, callout_id, now=clock.now(), lifted_by=me.person_id)

    try:
        await db(request, run)
    except callouts.CalloutError as e:  # lifted already
        raise BadInput(str(e)) from None
    outbox_changed(request)
    return redirect(f"/callouts/{callout_id}")
