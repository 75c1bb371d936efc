"""/callouts 叫应: issue a warning (level, units, text, photo), the list of warnings; /callouts/{id}
the live board of one (per recipient); 解除 with the closing summary. The work is
bot/services/live_board.py and the callouts package.

The board updates by itself: the page holds a server-sent-events stream (/callouts/{id}/events)
that says when the board moved (live_board.fingerprint, read every POLL seconds), and then asks
/callouts/{id}/status?v=VERSION, which answers with the new board's HTML only when it changed. The
page also asks /status every 2 s on its own, so a lost stream (a proxy that buffers events) still
leaves a board at most 2 s behind."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web
from sqlmodel import select

from bot import clock
from bot.services import callouts, live_board, signin
from bot.services.callouts import summary as summaries
from bot.services.callouts.render import duration as render_duration
from bot.store.models import Callout, Unit
from bot.texts import console as C
from bot.web import render
from bot.web.context import ctx, db, outbox_changed, redirect
from bot.web.errors import BadInput, NotFound, row_id
from bot.web.security import COOKIE, current

routes = web.RouteTableDef()
NAV = [(40, "/callouts", C.NAV_CALLOUTS)]
POLL = 0.05  # seconds between fingerprint reads of an open board's stream
HEARTBEAT = 15.0  # an SSE comment now and then keeps proxies from closing the stream
# Set when the server shuts down: open streams end at once instead of holding the shutdown for its
# grace period (aiohttp waits for running handlers; a stream would run until then).
CLOSING = web.AppKey("board_streams_closing", asyncio.Event)


def setup(app: web.Application) -> None:
    app[CLOSING] = asyncio.Event()

    async def close_streams(app: web.Application) -> None:
        app[CLOSING].set()

    app.on_shutdown.append(close_streams)


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
    found = await db(request, live_board.board, _id(request), clock.now())
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


@routes.get("/callouts/{id}/board")
async def board_fragment(request: web.Request) -> web.Response:
    """The board alone (what /status sends as "html")."""
    b = await _board(request)
    return web.Response(text=render.html(request, "_board.html", b=b, duration=render_duration),
                        content_type="text/html")


@routes.get("/callouts/{id}/events")
async def board_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: `data: <fingerprint>` each time the board moved; ends when the warning is
    lifted (after saying so), the page goes away, or (checked at each keep-alive) the session ended."""
    callout_id = _id(request)
    if await db(request, lambda s: s.get(Callout, callout_id) is None):
        raise NotFound(C.CALLOUT_NOT_FOUND)
    last = await db(request, live_board.fingerprint, callout_id)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    await response.write(b"retry: 1000\n\n")
    quiet = 0.0
    closing = request.app[CLOSING]
    with contextlib.suppress(ConnectionResetError):
        while last.endswith("|None") and not closing.is_set():  # not lifted yet
            await asyncio.sleep(POLL)
            now_print = await db(request, live_board.fingerprint, callout_id)
            if now_print != last:
                last = now_print
                await response.write(f"data: {now_print}\n\n".encode())
                quiet = 0.0
            else:
                quiet += POLL
                if quiet >= HEARTBEAT:
                    if await db(request, signin.lookup, request.cookies.get(COOKIE, ""), clock.now()) is None:
                        break  # signed out or expired: the page's next request goes to /signin
                    await response.write(b": keep-alive\n\n")
                    quiet = 0.0
    return response


@routes.post("/callouts/{id}/summary")
async def summary(request: web.Request) -> web.Response:
    """The 总结 of a lifted warning (chained in the ledger by bot/services/callouts/summary.py)."""
    callout_id = _id(request)
    me = current(request)
    form = await request.post()

    def run(s):
        if s.get(Callout, callout_id) is None:
            raise NotFound(C.CALLOUT_NOT_FOUND)
        summaries.record(s, callout_id, str(form.get("summary", "")), by=me.person_id, now=clock.now())

    try:
        await db(request, run)
    except callouts.CalloutError as e:
        raise BadInput(str(e)) from None
    return redirect(f"/callouts/{callout_id}")


@routes.post("/callouts/{id}/lift")
async def lift(request: web.Request) -> web.Response:
    callout_id = _id(request)
    me = current(request)

    form = await request.post()
    text = str(form.get("summary", "")).strip()

    def run(s):
        if s.get(Callout, callout_id) is None:
            raise NotFound(C.CALLOUT_NOT_FOUND)
        now = clock.now()
        callouts.lift(s, callout_id, now=now, lifted_by=me.person_id)
        if text:  # the 总结 may come with the lifting, or later (due summary_within after it)
            summaries.record(s, callout_id, text, by=me.person_id, now=now)

    try:
        await db(request, run)
    except callouts.CalloutError as e:  # lifted already
        raise BadInput(str(e)) from None
    outbox_changed(request)
    return redirect(f"/callouts/{callout_id}")
