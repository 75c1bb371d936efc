"""/duties (the catalogue: source clause, who, frequency, reminders), /calendar (a month of due
dates), and the per-person calendar feed: /ics/{token}.ics (public: the token is the secret) and
making or revoking it from the person's page."""

from __future__ import annotations

import calendar as month_grid
from datetime import date
from urllib.parse import quote

from aiohttp import web

from bot import clock
from bot.services import calendar_feeds, due_calendar
from bot.texts import web as T
from bot.web import render
from bot.web.context import ctx, db, redirect
from bot.web.errors import BadInput, NotFound
from bot.web.security import owner_or_office, person, public

routes = web.RouteTableDef()
NAV = [(30, "/duties", T.NAV_DUTIES), (35, "/calendar", T.NAV_CALENDAR)]


@routes.get("/duties")
async def duties_page(request: web.Request) -> web.Response:
    catalog = ctx(request).catalog
    return render.page(request, "duties.html", title=T.DUTIES_TITLE, catalog=catalog,
                       units={u.id: u.name for u in catalog.units},
                       people={p.id: p.name for p in catalog.people},
                       who_count=lambda who: len(catalog.members(who)))


@routes.get("/calendar")
async def calendar_page(request: web.Request) -> web.Response:
    tz = ctx(request).settings.zone
    value = request.query.get("month", "")
    today = clock.now().astimezone(tz).date()
    try:
        year, month = (int(x) for x in value.split("-")) if value else (today.year, today.month)
        first = date(year, month, 1)
    except ValueError:
        raise BadInput(T.BAD_MONTH.format(value=value)) from None
    days = await db(request, due_calendar.month, year, month, tz)
    weeks = month_grid.Calendar(firstweekday=0).monthdatescalendar(year, month)
    prev = date(year - (month == 1), (month - 2) % 12 + 1, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return render.page(request, "calendar.html", title=T.CALENDAR_TITLE, first=first, weeks=weeks, days=days,
                       today=today, prev=prev, next=nxt)


@routes.get("/ics/{token}.ics")
@public
async def feed(request: web.Request) -> web.Response:
    c = ctx(request)
    token = request.match_info["token"]
    found = await db(request, calendar_feeds.person_for, token, clock.now())
    if found is None:
        raise NotFound(T.FEED_NOT_FOUND)
    body = calendar_feeds.to_ics(calendar_feeds.instances(c.schedule, found.id, clock.now()), c.catalog)
    return web.Response(body=body, content_type="text/calendar", charset="utf-8",
                        headers={"Content-Disposition": "inline; filename=duties.ics"})


@routes.post("/people/{id}/feed")
@person
async def make_feed(request: web.Request) -> web.Response:
    person_id = request.match_info["id"]
    me = owner_or_office(request, person_id)
    c = ctx(request)
    try:
        token = await db(request, calendar_feeds.create, person_id, clock.now(), me.person_id)
    except KeyError:
        raise NotFound(T.PERSON_NOT_FOUND) from None
    # Shown once, here: the store keeps only its hash.
    return render.page(request, "feed_made.html", title=T.FEED_TITLE, url=calendar_feeds.feed_url(
        c.settings.web_url, token), person_id=person_id)


@routes.post("/people/{id}/feed/revoke")
@person
async def revoke_feed(request: web.Request) -> web.Response:
    person_id = request.match_info["id"]
    me = owner_or_office(request, person_id)
    await db(request, calendar_feeds.revoke, person_id, clock.now(), me.person_id)
    return redirect(f"/people/{quote(person_id, safe='')}?feed=revoked")
