"""/overdue 未报告: the filterable, sortable, paginated list; 催报 per row or for the whole filter;
the view as xlsx or csv."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from urllib.parse import urlencode

from aiohttp import web
from sqlmodel import select

from bot import clock
from bot.services import overdue
from bot.services.overdue import Filter, FilterError
from bot.store.models import Unit, row_id_of
from bot.texts import fmt
from bot.texts import web as T
from bot.web import render
from bot.web.context import CTX, ctx, db, outbox_changed, redirect, send_file
from bot.web.errors import BadInput
from bot.web.security import current

routes = web.RouteTableDef()
NAV = [(20, "/overdue", T.NAV_OVERDUE)]
FOLD_EVERY = 60.0  # seconds between foldings of the instance-count deltas (PostgreSQL)
FOLDER = web.AppKey("fold_counts", asyncio.Task)
log = logging.getLogger(__name__)


def setup(app: web.Application) -> None:
    """The console folds the instance-count deltas the triggers append (bot/services/overdue.py
    fold_counts), so a period's total sums a few hundred rows, not every change since."""
    stopping = asyncio.Event()

    def fold() -> int:
        with app[CTX].store.session() as s:
            return overdue.fold_counts(s)

    async def fold_forever() -> None:
        while not stopping.is_set():
            try:
                await asyncio.to_thread(fold)
            except Exception:  # retried next round; the totals stay exact meanwhile, only slower
                log.exception("folding instance counts")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), FOLD_EVERY)

    async def start(app: web.Application) -> None:
        if app[CTX].store.is_postgres:
            app[FOLDER] = asyncio.create_task(fold_forever())

    async def stop(app: web.Application) -> None:
        stopping.set()
        task = app.get(FOLDER)
        if task is not None:  # a folding under way ends first (its thread cannot be cancelled)
            await task

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


def _units(session) -> list[tuple[str, str]]:
    return [(u.id, u.name) for u in session.exec(select(Unit).where(Unit.retired_at.is_(None)).order_by(Unit.id))]  # type: ignore[union-attr]


async def _filter(request: web.Request, params) -> Filter:
    try:
        return await db(request, overdue.parse_filter, {k: str(v) for k, v in params.items()})
    except FilterError as e:
        raise BadInput(str(e)) from None


def _page_number(request: web.Request) -> int:
    value = request.query.get("page", "1")
    number = row_id_of(value)  # 1.., and small enough for an OFFSET on either backend
    if number is None:
        raise BadInput(T.BAD_PAGE.format(value=value))
    return number


def _anchor(request: web.Request, name: str) -> int | None:
    """The pager's keyset anchor: the instance the page follows (after=) or precedes (before=)."""
    value = request.query.get(name, "")
    if not value:
        return None
    if not value.isdigit():
        raise BadInput(T.BAD_PAGE.format(value=value))
    return int(value)


@routes.get("/overdue")
async def overdue_page(request: web.Request) -> web.Response:
    f = await _filter(request, request.query)
    number = _page_number(request)
    after, before = _anchor(request, "after"), _anchor(request, "before")
    tz = ctx(request).settings.zone
    now = clock.now()

    def load(s):
        found = overdue.page(s, f, now, tz, number, after=after, before=before)
        nudged = overdue.nudged_today(s, [r.instance_id for r in found.rows], now, tz)
        return found, nudged, _units(s)

    found, nudged, units = await db(request, load)
    flash = None
    if "n" in request.query:
        counts = {k: row_id_of(request.query.get(k, "0")) or 0 for k in ("n", "a", "u")}
        flash = T.NUDGE_DONE.format(
            queued=counts["n"], already=T.NUDGE_ALREADY.format(already=counts["a"]) if counts["a"] else "",
            unbound=T.NUDGE_UNBOUND_N.format(unbound=counts["u"]) if counts["u"] else "")

    def link(**changes) -> str:
        return "/overdue?" + urlencode(f.query(**changes))

    def sort_link(column: str) -> str:
        return link(sort=column, desc=(f.sort == column and not f.desc))

    return render.page(request, "overdue.html", title=T.OVERDUE_TITLE, f=f, found=found, nudged=nudged,
                       units=units, kinds=T.KINDS, statuses=T.STATUS_FILTERS, now=now, tz=tz, link=link,
                       sort_link=sort_link, query=urlencode(f.query()), flash=flash, fmt=fmt)


@routes.post("/overdue/nudge")
async def nudge(request: web.Request) -> web.Response:
    form = await request.post()
    f = await _filter(request, {k: v for k, v in form.items() if k in ("unit", "period", "kind", "status", "sort", "desc")})
    ids = None
    if form.get("instance"):
        value = str(form["instance"])
        instance = row_id_of(value)
        if instance is None:
            raise BadInput(T.BAD_ID.format(value=value))
        ids = [instance]
    me = current(request)
    c = ctx(request)
    result = await db(request, overdue.nudge, f, clock.now(), c.schedule, by=me.person_id, instance_ids=ids)
    outbox_changed(request)
    if ids is not None and request.headers.get("HX-Request"):
        label = T.NUDGED if result.queued or result.already else T.NUDGE_UNBOUND
        return web.Response(text=f'<span class="nudged">{label}</span>', content_type="text/html")
    query = {**f.query(), "n": result.queued, "a": result.already, "u": result.unbound}
    return redirect("/overdue?" + urlencode(query))


async def _download(request: web.Request, suffix: str, writer) -> web.StreamResponse:
    f = await _filter(request, request.query)
    tz = ctx(request).settings.zone
    now = clock.now()
    handle, path = tempfile.mkstemp(suffix=suffix, prefix="dutybot-overdue-")
    os.close(handle)
    try:
        await db(request, writer, f, now, tz, path)
        name = f"未报告_{now.astimezone(tz):%Y%m%d_%H%M}{suffix}"
        return await send_file(request, path, name)
    finally:
        with contextlib.suppress(OSError):
            await asyncio.to_thread(os.unlink, path)


@routes.get("/overdue.xlsx")
async def download_xlsx(request: web.Request) -> web.StreamResponse:
    return await _download(request, ".xlsx", overdue.write_xlsx)


@routes.get("/overdue.csv")
async def download_csv(request: web.Request) -> web.StreamResponse:
    return await _download(request, ".csv", overdue.write_csv)
