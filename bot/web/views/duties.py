"""/duties 职责清单 and /calendar 截止日历 (office); /my/duties and /my/calendar (anyone, their own);
/ics/{token}.ics, the secret calendar feed phone calendars subscribe to (no session: the token is
the credential, see bot/services/calendar_feeds.py)."""

from __future__ import annotations

from aiohttp import web

from bot import clock
from bot.services import calendar_feeds, duty_calendar
from bot.services.ics import to_ics
from bot.store.models import Person
from bot.texts import console as C
from bot.web import render
from bot.web.context import ctx, db, redirect
from bot.web.errors import BadInput, NotFound
from bot.web.security import current, person, public

routes = web.RouteTableDef()
NAV = [(60, "/duties", C.NAV_DUTIES), (70, "/calendar", C.NAV_CALENDAR)]


def _today(request: web.Request):
    return clock.now().astimezone(ctx(request).settings.zone).date()


def _person_param(request: web.Request) -> str | None:
    value = request.query.get("person", "").strip()
    if not value:
        return None
    found = ctx(request).catalog.find_person(value)
    if found is None:
        raise BadInput(C.BAD_PERSON.format(value=value))
    return found.id


def _month(request: web.Request, person_id: str | None) -> duty_calendar.Month:
    today = _today(request)
    value = request.query.get("month", "")
    try:
        year, month_no = duty_calendar.parse_month(value) if value else (today.year, today.month)
    except ValueError:
        raise BadInput(C.BAD_MONTH.format(value=value)) from None
    return duty_calendar.month(ctx(request).schedule, year, month_no, today, person_id)


def _people(request: web.Request) -> list[tuple[str, str]]:
    return [(p.id, p.name) for p in ctx(request).catalog.people]


@routes.get("/duties")
async def duties_page(request: web.Request) -> web.Response:
    person_id = _person_param(request)
    items = duty_calendar.catalogue(ctx(request).catalog, person_id)
    return render.page(request, "duties.html", title=C.DUTIES_TITLE, items=items, people=_people(request),
                       person_id=person_id or "", sections=duty_calendar.SECTIONS)


@routes.get("/calendar")
async def calendar_page(request: web.Request) -> web.Response:
    person_id = _person_param(request)
    m = _month(request, person_id)
    return render.page(request, "calendar.html", title=C.CALENDAR_TITLE, m=m, people=_people(request),
                       person_id=person_id or "", base="/calendar")


@routes.get("/my/duties")
@person
async def my_duties(request: web.Request) -> web.Response:
    me = current(request)
    items = duty_calendar.catalogue(ctx(request).catalog, me.person_id)
    m = _month(request, me.person_id)
    return render.page(request, "my_duties.html", title=C.MY_DUTIES, items=items, m=m, base="/my/duties",
                       sections=duty_calendar.SECTIONS)


@routes.get("/my/calendar")
@person
async def my_calendar(request: web.Request) -> web.Response:
    me = current(request)
    feed = await db(request, calendar_feeds.active, me.person_id)
    return render.page(request, "my_calendar.html", title=C.FEED_TITLE, feed=feed, new_url="",
                       revoked="revoked" in request.query)


@routes.post("/my/calendar")
@person
async def new_feed(request: web.Request) -> web.Response:
    me = current(request)
    token = await db(request, calendar_feeds.create, me.person_id, clock.now())
    feed = await db(request, calendar_feeds.active, me.person_id)
    url = calendar_feeds.feed_url(ctx(request).settings.web_url, token)
    # Shown once, in this response (the store keeps only its hash); not a redirect, so no URL holds it.
    return render.page(request, "my_calendar.html", title=C.FEED_TITLE, feed=feed, new_url=url, revoked=False)


@routes.post("/my/calendar/revoke")
@person
async def revoke_feed(request: web.Request) -> web.Response:
    me = current(request)
    await db(request, calendar_feeds.revoke, me.person_id, clock.now())
    return redirect("/my/calendar?revoked=1")


@routes.get("/ics/{token}.ics")
@public
async def feed(request: web.Request) -> web.Response:
    c = ctx(request)
    token = request.match_info["token"]
    found = await db(request, calendar_feeds.lookup, token, clock.now(), _today(request))
    if found is None:
        raise NotFound(C.FEED_GONE)

    def build(s) -> bytes:
        row = s.get(Person, found.person_id)
        specs = c.schedule.expand(found.start, found.end, person=found.person_id)
        return to_ics(specs, c.catalog, name=C.FEED_CALNAME.format(name=row.name if row else found.person_id))

    body = await db(request, build)
    return web.Response(body=body, headers={"Content-Type": "text/calendar; charset=utf-8",
                                            "Content-Disposition": 'inline; filename="dutybot.ics"',
                                            "Cache-Control": "private, max-age=900"})
