"""/exemptions 免考核审批: pending requests with 批准 / 驳回, the latest decisions, 撤销 with a reason
(bot/services/exemptions.py decides, revokes and tells the leader; the view only parses and shows)."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from bot import clock
from bot.services import exemptions
from bot.services.exemptions import ExemptionError
from bot.store.models import Person
from bot.texts import console as C
from bot.web import render
from bot.web.context import ctx, db, outbox_changed, redirect
from bot.web.errors import BadInput, NotFound, row_id
from bot.web.security import current

routes = web.RouteTableDef()
NAV = [(30, "/exemptions", C.NAV_EXEMPTIONS)]


@routes.get("/exemptions")
async def exemptions_page(request: web.Request) -> web.Response:
    def load(s):
        return (exemptions.listing(s, ("pending",)),
                exemptions.listing(s, ("approved", "refused", "revoked"), newest_first=True))

    pending, decided = await db(request, load)
    return render.page(request, "exemptions.html", title=C.EXEMPTIONS_TITLE, pending=pending, decided=decided,
                       flash=request.query.get("flash", ""), error=request.query.get("error", ""),
                       dates=exemptions.dates_text)


def _id(request: web.Request) -> int:
    return row_id(request, C.EXEMPTIONS_TITLE)


def _back(**message: str) -> web.Response:
    return redirect("/exemptions?" + urlencode(message) if message else "/exemptions")


async def _decide(request: web.Request, approve: bool) -> web.Response:
    exemption_id = _id(request)
    me = current(request)
    tz = ctx(request).settings.zone

    def run(s):
        approver = s.get(Person, me.person_id)
        d = exemptions.decide(s, exemption_id, approver, approve, clock.now(), tz=tz)
        leader = s.get(Person, d.exemption.person_id)
        name = leader.name if leader else d.exemption.person_id
        if not d.decided_now:
            by = s.get(Person, d.exemption.decided_by) if d.exemption.decided_by else None
            return C.FLASH_ALREADY.format(by=by.name if by else "", verdict=exemptions.t.VERDICT.get(d.exemption.state, ""))
        if approve:
            return C.FLASH_APPROVED.format(name=name, n=len(d.excused))
        return C.FLASH_REFUSED.format(name=name)

    try:
        message = await db(request, run)
    except ExemptionError as e:
        raise NotFound(str(e)) from None
    outbox_changed(request)
    return _back(flash=message)


@routes.post("/exemptions/{id}/approve")
async def approve(request: web.Request) -> web.Response:
    return await _decide(request, True)


@routes.post("/exemptions/{id}/refuse")
async def refuse(request: web.Request) -> web.Response:
    return await _decide(request, False)


@routes.post("/exemptions/{id}/revoke")
async def revoke(request: web.Request) -> web.Response:
    exemption_id = _id(request)
    form = await request.post()
    reason = str(form.get("reason", ""))
    me = current(request)
    tz = ctx(request).settings.zone

    def run(s):
        r = exemptions.revoke(s, exemption_id, s.get(Person, me.person_id), reason, clock.now(), tz=tz)
        leader = s.get(Person, r.exemption.person_id)
        return C.FLASH_REVOKED.format(name=leader.name if leader else r.exemption.person_id, n=len(r.restored))

    try:
        message = await db(request, run)
    except ExemptionError as e:
        if str(e) == exemptions.t.EXEMPT_NOT_FOUND:
            raise NotFound(str(e)) from None
        raise BadInput(str(e)) from None
    outbox_changed(request)
    return _back(flash=message)
