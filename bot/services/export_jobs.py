"""Export jobs: the assessment workbook or a person's 履职档案, started from the web console (or
anywhere), run in the background by a process worker, downloadable when done, kept 7 days.

A job is a row (`ExportJob`): queued → running → done | failed. A worker claims the oldest
queued job with a conditional UPDATE (two processes cannot both claim it), runs the export in a
thread and writes its progress (rows of 明细 written out of the instances in range) every few
seconds; that write is also its heartbeat: a running job whose heartbeat is older than
`STALE` (its process died) is claimed again; a process that stops puts its job back at once. The file goes to DATA_DIR/exports/<id>/<name>
and is deleted with its row 7 days after it finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, or_, update
from sqlmodel import Session, select

from bot import clock
from bot.services import assessment, export
from bot.store.models import AuditLog, DutyInstance, ExportJob, Person
from bot.texts import web as T

log = logging.getLogger(__name__)
KEEP = timedelta(days=7)
# No heartbeat for this long: the job's process died. Long enough for the phases of a year's export
# that write no 明细 rows (the summary and the ranking sheets take tens of seconds at 1.5 M).
STALE = timedelta(minutes=10)
BEAT = 2.0  # seconds between progress writes
IDLE = 1.0  # seconds between looks for work
KINDS = ("assessment", "person")


class JobError(ValueError):
    """A job that cannot be started (Chinese message)."""


class Interrupted(Exception):
    """The process is stopping: the job goes back to the queue and starts again later."""


def folder(data_dir: Path, job_id: int) -> Path:
    return Path(data_dir) / "exports" / str(job_id)


def start(session: Session, *, kind: str, start: date, end: date, now: datetime, by: str | None,
          person_id: str | None = None) -> ExportJob:
    if kind not in KINDS:
        raise JobError(T.EXPORT_BAD_KIND.format(value=kind))
    if end < start:
        raise JobError(T.EXPORT_BAD_RANGE)
    if (end - start).days > 366 * 3:
        raise JobError(T.EXPORT_TOO_LONG)
    if kind == "person" and (person_id is None or session.get(Person, person_id) is None):
        raise JobError(T.EXPORT_BAD_PERSON.format(value=person_id or ""))
    job = ExportJob(kind=kind, params={"from": start.isoformat(), "to": end.isoformat(), "person_id": person_id},
                    created_by=by, created_at=now, expires_at=None)
    session.add(job)
    session.flush()
    session.add(AuditLog(at=now, person_id=by, action="export.started", detail={"job": job.id, **job.params,
                                                                                 "kind": kind}))
    return job


def claim(session: Session, now: datetime) -> ExportJob | None:
    """The oldest queued job (or a running one whose process died), now ours; None when idle."""
    candidates = session.exec(
        select(ExportJob.id, ExportJob.state, ExportJob.heartbeat_at)
        .where(or_(ExportJob.state == "queued",
                   (ExportJob.state == "running") & (ExportJob.heartbeat_at < now - STALE)))  # type: ignore[operator]
        .order_by(ExportJob.id).limit(5)).all()
    for job_id, state, beat in candidates:
        claimed = session.execute(
            update(ExportJob).where(ExportJob.id == job_id, ExportJob.state == state,
                                    (ExportJob.heartbeat_at == beat) if beat is not None else ExportJob.heartbeat_at.is_(None))  # type: ignore[union-attr]
            .values(state="running", started_at=now, heartbeat_at=now, done=0))
        if claimed.rowcount == 1:
            session.flush()
            return session.get(ExportJob, job_id, populate_existing=True)
    return None


def _dates(job: ExportJob) -> tuple[date, date]:
    return date.fromisoformat(job.params["from"]), date.fromisoformat(job.params["to"])


def filename(job: ExportJob, person_name: str | None) -> str:
    start, end = _dates(job)
    if job.kind == "person":
        return f"履职档案_{export.safe_name(person_name or job.params['person_id'])}_{start}_{end}.zip"
    return f"履职记录_{start}_{end}.xlsx"


def expected_rows(session: Session, start: date, end: date, tz, person_id: str | None) -> int:
    """Instances due in the range: about the rows 明细 will have (one per instance, more with
    several check-ins), the denominator of the progress shown."""
    lo, hi = assessment.utc_bounds(start, end, tz)
    query = select(func.count()).select_from(DutyInstance).where(DutyInstance.due_at >= lo, DutyInstance.due_at < hi)
    if person_id is not None:
        query = query.where(DutyInstance.person_id == person_id)
    return int(session.exec(query).one())


def run(store, settings, catalog, job: ExportJob, stopping: threading.Event | None = None) -> None:
    """Write the job's file (in the calling thread), recording progress and the outcome. When
    `stopping` is set the export stops at its next progress step and the job is queued again."""
    tz = settings.zone
    start, end = _dates(job)
    with store.session() as s:
        person = s.get(Person, job.params["person_id"]) if job.params.get("person_id") else None
        row = s.get(ExportJob, job.id)
        row.total = expected_rows(s, start, end, tz, person.id if person else None)
    name = filename(job, person.name if person else None)
    out_dir = folder(settings.data_dir, job.id)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / name
    progress = _Progress(store, job.id, stopping)
    common = dict(data_dir=settings.data_dir, tz=tz, weights=assessment.weights_of(catalog),
                  policy=assessment.policy_from(catalog), progress=progress)
    try:
        if job.kind == "person":
            export.write_archive(store, out, person.id, start, end, clock.now(), **common)
        else:
            export.write_xlsx(store, out, start, end, clock.now(), **common)
    except Interrupted:
        shutil.rmtree(out_dir, ignore_errors=True)
        with store.session() as s:
            row = s.get(ExportJob, job.id)
            row.state, row.done, row.heartbeat_at = "queued", 0, None
        return
    except Exception as err:
        log.exception("export job %s failed", job.id)
        shutil.rmtree(out_dir, ignore_errors=True)
        with store.session() as s:
            row = s.get(ExportJob, job.id)
            row.state, row.error, row.finished_at = "failed", f"{type(err).__name__}: {err}"[:500], clock.now()
            row.expires_at = row.finished_at + KEEP
        return
    now = clock.now()
    with store.session() as s:
        row = s.get(ExportJob, job.id)
        row.state, row.finished_at, row.expires_at = "done", now, now + KEEP
        row.path = str(out.relative_to(settings.data_dir))
        row.filename, row.size = name, out.stat().st_size
        row.done = max(row.done, progress.rows)


class _Progress:
    """export's progress callback: rows written so far, saved every BEAT seconds (the heartbeat)."""

    def __init__(self, store, job_id: int, stopping: threading.Event | None = None):
        self.store, self.job_id, self.stopping = store, job_id, stopping
        self.rows = 0
        self._saved = 0.0

    def __call__(self, rows: int) -> None:
        if self.stopping is not None and self.stopping.is_set():
            raise Interrupted
        self.rows = rows
        if time.monotonic() - self._saved < BEAT:
            return
        self._saved = time.monotonic()
        with self.store.session() as s:
            s.execute(update(ExportJob).where(ExportJob.id == self.job_id)
                   .values(done=rows, heartbeat_at=clock.now()))


def expire(session: Session, data_dir: Path, now: datetime) -> int:
    """Delete finished jobs (files and rows) older than KEEP."""
    old = session.exec(select(ExportJob).where(ExportJob.expires_at < now)).all()  # type: ignore[operator]
    for job in old:
        shutil.rmtree(folder(data_dir, job.id), ignore_errors=True)
        session.delete(job)
    return len(old)


def recent(session: Session, limit: int = 50) -> list[ExportJob]:
    return list(session.exec(select(ExportJob).order_by(ExportJob.id.desc()).limit(limit)))  # type: ignore[union-attr]


def file_of(session: Session, data_dir: Path, job_id: int) -> tuple[ExportJob, Path] | None:
    job = session.get(ExportJob, job_id)
    if job is None or job.state != "done" or not job.path:
        return None
    return job, Path(data_dir) / job.path


async def worker(ctx, stop: asyncio.Event) -> None:
    """Runs export jobs one at a time until `stop`; expires old ones now and then."""
    store, settings = ctx.store, ctx.settings
    last_expiry = 0.0
    stopping = threading.Event()  # the export thread looks at it; `stop` is the loop's
    watcher = asyncio.ensure_future(stop.wait())
    watcher.add_done_callback(lambda _: stopping.set())

    def next_job() -> ExportJob | None:
        with store.session() as s:
            return claim(s, clock.now())

    try:
        while not stop.is_set():
            if time.monotonic() - last_expiry > 3600:
                last_expiry = time.monotonic()
                await asyncio.to_thread(_expire, store, settings.data_dir)
            job = await asyncio.to_thread(next_job)
            if job is not None:
                await asyncio.to_thread(run, store, settings, ctx.catalog, job, stopping)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), IDLE)
    finally:
        stopping.set()  # cancelled: the thread, if any, stops at its next step too
        watcher.cancel()


def _expire(store, data_dir: Path) -> None:
    with store.session() as s:
        expire(s, data_dir, clock.now())

