"""/callouts 叫应: issue a warning (level, units, hazard, text, photo), the list of active and
recent ones, and /callouts/{id}: the live board of one warning (per recipient: sent, delivered,
calls, 收到 with time-to-ack, escalated to, report with measures and photos), lift with a summary.

The board updates by itself: the page holds a server-sent-events stream (/callouts/{id}/events)
that sends an event whenever the callout's fingerprint (counts and latest times of its targets,
read every POLL seconds from the store, so answers recorded by another process show too) changes;
a few lines of script then swap in the board fragment (/callouts/{id}/board). Without scripts the
page refreshes itself every 5 s."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from sqlalchemy import func
from sqlmodel import select

from bot import clock
from bot.services.callouts import attachments, issuing, lifting, lookup, records
from bot.services.callouts.policy import CalloutError
from bot.store.models import AuditLog, Callout, CalloutTarget, Person, Unit
from bot.texts import web as T
from bot.web import render
from bot.web.context import ctx, db, outbox_changed, redirect
from bot.web.errors import BadInput, NotFound
from bot.web.security import current

routes = web.RouteTableDef()
NAV = [(40, "/callouts", T.NAV_CALLOUTS)]
POLL = 0.1  # seconds between fingerprint reads of an open board
HEARTBEAT = 15.0  # an SSE comment now and then keeps proxies from closing the stream
RECENT = timedelta(days=30)
CLOSING = web.AppKey("callout_streams_closing", asyncio.Event)


def setup(app: web.Application) -> None:
    app[CLOSING] = asyncio.Event()  # set on shutdown: open boards' streams end instead of holding the stop

    async def closing(app: web.Application) -> None:
        app[CLOSING].set()

    app.on_shutdown.append(closing)


def _callout_id(request: web.Request) -> int:
    value = request.match_info["id"]
    if not value.isdigit():
        raise NotFound(T.CALLOUT_NOT_FOUND)
    return int(value)


def _list(session, now):
    callouts = list(session.exec(select(Callout).where((Callout.lifted_at.is_(None)) | (Callout.issued_at >= now - RECENT))  # type: ignore[union-attr]
                                 .order_by(Callout.issued_at.desc())))  # type: ignore[attr-defined]
    counts = {}
    for c in callouts:
        total, acked = session.exec(select(func.count(), func.count(CalloutTarget.acked_at))
                                    .where(CalloutTarget.callout_id == c.id)).one()
        counts[c.id] = (int(total), int(acked))
    units = [(u.id, u.name) for u in session.exec(select(Unit).where(Unit.retired_at.is_(None)).order_by(Unit.id))]  # type: ignore[union-attr]
    return callouts, counts, units


@routes.get("/callouts")
async def callouts_page(request: web.Request) -> web.Response:
    callouts, counts, units = await db(request, _list, clock.now())
    levels = [lv.value for lv in ctx(request).catalog.callouts]
    return render.page(request, "callouts.html", title=T.CALLOUTS_TITLE, callouts=callouts, counts=counts,
                       units=units, levels=levels)


@routes.post("/callouts")
async def issue(request: web.Request) -> web.Response:
    form = await request.post()
    me = current(request)
    c = ctx(request)
    level = str(form.get("level", ""))
    text = str(form.get("text", ""))
    hazard = str(form.get("hazard", "")).strip()
    units = [str(u) for u in form.getall("units", [])]
    photo = form.get("photo")
    attachment = None
    if isinstance(photo, web.FileField) and photo.filename:
        attachment = await asyncio.to_thread(_store_upload, photo, c.settings.data_dir)

    def work(s):
        me_row = s.get(Person, me.person_id)
        chat = me_row.telegram_id if me_row else None
        return issuing.issue(s, c.catalog, level=level, text=text, now=clock.now(), units=units, hazard=hazard,
                             issued_by=me.person_id, attachment=attachment, board_chat_id=chat).id

    try:
        callout_id = await db(request, work)
    except CalloutError as e:
        raise BadInput(str(e)) from None
    outbox_changed(request)
    return redirect(f"/callouts/{callout_id}")


def _store_upload(field: web.FileField, data_dir: Path) -> dict:
    suffix = Path(field.filename or "").suffix.lower()[:10]
    handle, tmp = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(field.file.read())
        attachment = attachments.attachment_from_file(tmp, data_dir)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    if (field.content_type or "").startswith("image/"):
        attachment["kind"] = "photo"
    attachment["filename"] = field.filename
    return attachment


def _board(session, callout_id: int):
    callout = session.get(Callout, callout_id)
    if callout is None:
        return None
    rows = records.rows_for(session, callout)
    summary = session.exec(select(AuditLog).where(AuditLog.action == "callout.web_summary",
                                                  AuditLog.detail["callout"].as_integer() == callout_id)  # type: ignore[index]
                           .order_by(AuditLog.id.desc())).first()  # type: ignore[union-attr]
    counts = {"total": len(rows), "sent": sum(1 for r in rows if r["calls_made"] > 0),
              "delivered": sum(1 for r in rows if r["delivered_at"]), "acked": sum(1 for r in rows if r["acked_at"]),
              "escalated": sum(1 for r in rows if r["escalated_at"]), "reported": sum(1 for r in rows if r["report_at"])}
    header = lookup.header(session, callout)
    return {"callout": callout, "rows": rows, "counts": counts, "header": header,
            "summary": summary.detail.get("summary") if summary else None,
            "fingerprint": fingerprint(session, callout_id)}


def fingerprint(session, callout_id: int) -> str:
    """Changes whenever a target is called, answers, escalates or reports, or the callout is lifted."""
    row = session.exec(select(func.count(), func.sum(CalloutTarget.calls_made), func.count(CalloutTarget.acked_at),
                              func.max(CalloutTarget.acked_at), func.count(CalloutTarget.escalated_at),
                              func.count(CalloutTarget.report_at), func.max(CalloutTarget.report_at),
                              func.max(CalloutTarget.last_called_at))
                       .where(CalloutTarget.callout_id == callout_id)).one()
    lifted = session.exec(select(Callout.lifted_at).where(Callout.id == callout_id)).first()
    return "|".join(str(v) for v in (*row, lifted))


async def _load_board(request: web.Request) -> dict:
    data = await db(request, _board, _callout_id(request))
    if data is None:
        raise NotFound(T.CALLOUT_NOT_FOUND)
    return data


@routes.get("/callouts/{id}")
async def board_page(request: web.Request) -> web.Response:
    data = await _load_board(request)
    return render.page(request, "callout.html", title=T.CALLOUT_TITLE.format(id=data["callout"].id), **data)


@routes.get("/callouts/{id}/board")
async def board_fragment(request: web.Request) -> web.Response:
    return render.page(request, "_callout_board.html", **await _load_board(request))


@routes.get("/callouts/{id}/events")
async def board_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: `data: <fingerprint>` each time the board changed."""
    callout_id = _callout_id(request)
    last = await db(request, fingerprint, callout_id)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    await response.write(b"retry: 1000\n\n")
    quiet = 0.0
    closing = request.app[CLOSING]
    try:
        while not closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closing.wait(), POLL)
            current_print = await db(request, fingerprint, callout_id)
            if current_print != last:
                last = current_print
                await response.write(f"data: {current_print}\n\n".encode())
                quiet = 0.0
            else:
                quiet += POLL
                if quiet >= HEARTBEAT:
                    await response.write(b": keep-alive\n\n")
                    quiet = 0.0
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response


@routes.post("/callouts/{id}/lift")
async def lift(request: web.Request) -> web.Response:
    form = await request.post()
    summary = str(form.get("summary", "")).strip()
    if not summary:
        raise BadInput(T.LIFT_NEEDS_SUMMARY)
    me = current(request)
    callout_id = _callout_id(request)

    def work(s):
        now = clock.now()
        lifting.lift(s, callout_id, now=now, lifted_by=me.person_id)
        s.add(AuditLog(at=now, person_id=me.person_id, action="callout.web_summary",
                       detail={"callout": callout_id, "summary": summary[:2000]}))

    try:
        await db(request, work)
    except CalloutError as e:
        raise BadInput(str(e)) from None
    outbox_changed(request)
    return redirect(f"/callouts/{callout_id}")
