"""/exports: start an assessment export or a person's 履职档案 as a background job, watch its
progress (the list refreshes itself every 2 s while a job runs), download it when done."""

from __future__ import annotations

from datetime import date

from aiohttp import web
from sqlmodel import select

from bot import clock
from bot.services import export_jobs
from bot.services.export_jobs import JobError
from bot.store.models import Person
from bot.texts import web as T
from bot.web import render
from bot.web.context import ctx, db, redirect, send_file
from bot.web.errors import BadInput, NotFound, row_id
from bot.web.security import current

routes = web.RouteTableDef()
NAV = [(70, "/exports", T.NAV_EXPORTS)]


def _people(session) -> list[tuple[str, str]]:
    return [(p.id, p.name) for p in session.exec(select(Person).where(Person.retired_at.is_(None))  # type: ignore[union-attr]
                                                  .order_by(Person.unit_id, Person.name))]


def _jobs(session):
    jobs = export_jobs.recent(session)
    ids = {j.created_by for j in jobs if j.created_by} | {j.params.get("person_id") for j in jobs} - {None}
    names = {p.id: p.name for p in session.exec(select(Person).where(Person.id.in_(ids)))} if ids else {}  # type: ignore[attr-defined]
    return jobs, names


async def _list(request: web.Request) -> dict:
    jobs, names = await db(request, _jobs)
    return {"jobs": jobs, "names": names, "busy": any(j.state in ("queued", "running") for j in jobs)}


@routes.get("/exports")
async def exports_page(request: web.Request) -> web.Response:
    today = clock.now().astimezone(ctx(request).settings.zone).date()
    people = await db(request, _people)
    return render.page(request, "exports.html", title=T.EXPORTS_TITLE, people=people, today=today,
                       year_start=date(today.year, 1, 1), **await _list(request))


@routes.get("/exports/list")
async def exports_list(request: web.Request) -> web.Response:
    return render.page(request, "_export_jobs.html", **await _list(request))


def _date(value: str, label: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(T.BAD_DATE.format(label=label, value=value)) from None


@routes.post("/exports")
async def start(request: web.Request) -> web.Response:
    form = await request.post()
    kind = str(form.get("kind", ""))
    begin = _date(str(form.get("from", "")), T.EXPORT_FROM)
    end = _date(str(form.get("to", "")), T.EXPORT_TO)
    person_id = str(form.get("person", "")) or None
    me = current(request)
    try:
        await db(request, export_jobs.start, kind=kind, start=begin, end=end, now=clock.now(), by=me.person_id,
                 person_id=person_id if kind == "person" else None)
    except JobError as e:
        raise BadInput(str(e)) from None
    return redirect("/exports")


@routes.get("/exports/{id}/download")
async def download(request: web.Request) -> web.StreamResponse:
    job_id = row_id(request, T.EXPORT_NOT_READY)
    found = await db(request, export_jobs.file_of, ctx(request).settings.data_dir, job_id)
    if found is None:
        raise NotFound(T.EXPORT_NOT_READY)
    job, path = found
    if not path.is_file():
        raise NotFound(T.EXPORT_NOT_READY)
    return await send_file(request, path, job.filename)
