"""/exemptions 免考核: pending requests with 批准 / 驳回, approved ones with 撤销 (a reason is
required and recorded in the hash chain), and the history."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlmodel import select

from bot import clock
from bot.services import exemptions
from bot.services.exemptions import ExemptionError
from bot.store.models import Exemption, ExemptionRevocation, Person, Unit
from bot.texts import web as T
from bot.web import render
from bot.web.context import ctx, db, outbox_changed, redirect
from bot.web.errors import BadInput, NotFound
from bot.web.security import current

routes = web.RouteTableDef()
NAV = [(50, "/exemptions", T.NAV_EXEMPTIONS)]


@dataclass
class Line:
    ex: Exemption
    name: str
    unit: str
    revocation: ExemptionRevocation | None
    dates: str


def _lines(session, tz) -> tuple[dict[str, list[Line]], dict[str, str]]:
    rows = list(session.exec(select(Exemption).where(Exemption.state.in_(("pending", "approved", "refused")))  # type: ignore[attr-defined]
                             .order_by(Exemption.requested_at.desc()).limit(500)))  # type: ignore[attr-defined]
    revoked = {r.exemption_id: r for r in session.exec(select(ExemptionRevocation).where(
        ExemptionRevocation.exemption_id.in_([ex.id for ex in rows])))} if rows else {}  # type: ignore[attr-defined]
    ids = ({ex.person_id for ex in rows} | {ex.decided_by for ex in rows if ex.decided_by}
           | {r.revoked_by for r in revoked.values()})
    people = {p.id: p for p in session.exec(select(Person).where(Person.id.in_(ids)))} if ids else {}  # type: ignore[attr-defined]
    units = {u.id: u.name for u in session.exec(select(Unit))}
    out: dict[str, list[Line]] = {"pending": [], "approved": [], "done": []}
    for ex in rows:
        p = people.get(ex.person_id)
        line = Line(ex, p.name if p else ex.person_id, units.get(p.unit_id, "") if p else "", revoked.get(ex.id),
                    exemptions.dates_text(ex, tz) if ex.date_from else "—")
        key = "pending" if ex.state == "pending" else "approved" if ex.state == "approved" and not line.revocation else "done"
        out[key].append(line)
    return out, {pid: p.name for pid, p in people.items()}


@routes.get("/exemptions")
async def exemptions_page(request: web.Request) -> web.Response:
    lines, names = await db(request, _lines, ctx(request).settings.zone)
    return render.page(request, "exemptions.html", title=T.EXEMPTIONS_TITLE, lines=lines, names=names,
                       flash=request.query.get("done", ""))


def _id(request: web.Request) -> int:
    value = request.match_info["id"]
    if not value.isdigit():
        raise NotFound(T.EXEMPTION_NOT_FOUND)
    return int(value)


@routes.post("/exemptions/{id}/decide")
async def decide(request: web.Request) -> web.Response:
    form = await request.post()
    verdict = str(form.get("verdict", ""))
    if verdict not in ("approve", "refuse"):
        raise BadInput(T.BAD_VERDICT.format(value=verdict))
    me = current(request)
    exemption_id = _id(request)
    tz = ctx(request).settings.zone

    def work(s):
        approver = s.get(Person, me.person_id)
        return exemptions.decide(s, exemption_id, approver, verdict == "approve", clock.now(), tz=tz)

    try:
        result = await db(request, work)
    except ExemptionError as e:
        raise BadInput(str(e)) from None
    outbox_changed(request)
    done = ("approved" if verdict == "approve" else "refused") if result.decided_now else "already"
    return redirect(f"/exemptions?done={done}")


@routes.post("/exemptions/{id}/revoke")
async def revoke(request: web.Request) -> web.Response:
    form = await request.post()
    reason = str(form.get("reason", ""))
    me = current(request)
    exemption_id = _id(request)
    tz = ctx(request).settings.zone

    def work(s):
        by = s.get(Person, me.person_id)
        return exemptions.revoke(s, exemption_id, by, reason, clock.now(), tz=tz)

    try:
        await db(request, work)
    except ExemptionError as e:
        raise BadInput(str(e)) from None
    outbox_changed(request)
    return redirect("/exemptions?done=revoked")
