"""The catalogue's jobs in PTB's JobQueue scheduler (APScheduler's AsyncIOScheduler).

`compile_jobs(catalog)` gives one job per item × action (open, each reminder label, close),
never per person; each becomes an APScheduler job with the spec's stable id (replace_existing)
and a `DutyTrigger` that asks `schedules.next_fire_time` for its next time. A job's work is a
store query (bot/services/reminders.py) run in a worker thread.

Housekeeping jobs: `runtime:heartbeat` (every minute) moves the catch-up watermark forward
— and runs a full reconcile instead when the process was suspended or a job failed — and sends
the reminders released since (held for a daily digest or past quiet hours); `runtime:compose`,
set SETTLE after each remind job fires, turns that minute's reminders into one message per person
(bot/services/digest.py); `runtime:digest` (daily at the catalogue's remind_at) queues the office
digest of missed duties.
On start, once the scheduler runs, `reconcile()` catches up from the watermark.

Only the leader runs the scheduler (bot/telegram/app.py resumes it on election, pauses it on
deposition). Each job runs inside `fence()` (the leader's `Leadership.fenced`): its commits are
refused once another process leads, so a paused old leader cannot queue a reminder late.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import clock
from bot.services import digest, reminders
from bot.services.reminders import Report
from bot.store.lease import Fenced
from bot.telegram.context import BotContext
from schedules import JobSpec, Schedule, compile_jobs, next_fire_time

log = logging.getLogger(__name__)

HEARTBEAT = timedelta(seconds=60)
GAP = timedelta(minutes=5)  # a heartbeat later than this means the process slept: reconcile
# The heartbeat's watermark trails the clock: a job due a moment ago may still be about to run,
# and a crash then must leave it to the catch-up (which dedupes what did run).
MARGIN = timedelta(minutes=2)
MISFIRE_GRACE = int(reminders.JOB_LOOKBACK.total_seconds())


class DutyTrigger(BaseTrigger):
    """Fire times of one job spec, straight from the catalogue's windows."""

    def __init__(self, schedule: Schedule, spec: JobSpec):
        self.schedule = schedule
        self.spec = spec

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        # On the first call a fire time equal to `now` still counts.
        after = previous_fire_time if previous_fire_time is not None else now - timedelta(microseconds=1)
        return next_fire_time(self.schedule, self.spec, after)

    def __str__(self) -> str:
        return f"duty[{self.spec.id}]"

    def __repr__(self) -> str:
        return f"<DutyTrigger {self.spec.id}>"


class ReminderScheduler:
    def __init__(self, ctx: BotContext, scheduler: BaseScheduler):
        self.ctx = ctx
        self.scheduler = scheduler
        self.specs: dict[str, JobSpec] = {s.id: s for s in compile_jobs(ctx.catalog)}
        self.failed_at: datetime | None = None  # earliest fire time of a job that raised
        self.runs = 0
        # Leader-only work is fenced: Runtime sets this to its Leadership.fenced.
        self.fence: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
        self.firing = 0  # remind jobs running now: their minute is not complete yet

    # --- installing ---------------------------------------------------------------------------
    def install(self) -> int:
        for spec in self.specs.values():
            self.scheduler.add_job(self._fire, trigger=DutyTrigger(self.ctx.schedule, spec), args=[spec.id],
                                   id=spec.id, name=spec.id, replace_existing=True, coalesce=True,
                                   misfire_grace_time=MISFIRE_GRACE, max_instances=1)
        self.scheduler.add_job(self._heartbeat, trigger=IntervalTrigger(seconds=HEARTBEAT.total_seconds()),
                               id="runtime:heartbeat", name="runtime:heartbeat", replace_existing=True,
                               coalesce=True, max_instances=1)
        remind_at = self.ctx.catalog.defaults.remind_at
        self.scheduler.add_job(self._digest, trigger=CronTrigger(hour=remind_at.hour, minute=remind_at.minute,
                                                                 timezone=self.ctx.schedule.tz),
                               id="runtime:digest", name="runtime:digest", replace_existing=True,
                               coalesce=True, misfire_grace_time=MISFIRE_GRACE, max_instances=1)
        return len(self.specs)

    # --- work (also called directly by tests and the demo) ------------------------------------------
    async def run_job(self, job_id: str, now: datetime | None = None, compose: bool = True) -> Report:
        """Run one job at `now`; with `compose` its reminders go out at once (tests, the demo);
        the scheduler passes False and composes SETTLE later, with the other jobs of the minute."""
        spec = self.specs[job_id]
        now = now or clock.now()

        def work() -> Report:
            with self.ctx.store.session() as s:
                report = reminders.run_job(s, self.ctx.schedule, spec, now)
            if compose and report.queued:
                report.digests += self._compose(now)
            return report

        report = await asyncio.to_thread(work)
        self.runs += 1
        log.info("job %s at %s: opened %d, queued %d, closed %d", job_id, now.isoformat(timespec="seconds"),
                 report.opened, report.queued, report.closed)
        return report

    async def reconcile(self, now: datetime | None = None) -> Report:
        now = now or clock.now()

        def work() -> Report:
            with self.ctx.store.session() as s:
                report = reminders.reconcile(s, self.ctx.schedule, now)
            self._compose(now)
            return report

        report = await asyncio.to_thread(work)
        self.failed_at = None
        log.info("catch-up from %s to %s: opened %d, queued %d, closed %d, digests %d",
                 report.since.isoformat(timespec="seconds") if report.since else "(first start)",
                 now.isoformat(timespec="seconds"), report.opened, report.queued, report.closed, report.digests)
        return report

    async def digest(self, now: datetime | None = None) -> int:
        now = now or clock.now()

        def work() -> int:
            with self.ctx.store.session() as s:
                return reminders.digest(s, self.ctx.schedule, now)

        return await asyncio.to_thread(work)

    async def compose(self, now: datetime | None = None, settle: timedelta = timedelta(0)) -> int:
        """Send the reminders released by `now`: one message per person (bot/services/digest.py)."""
        now = now or clock.now()
        return await asyncio.to_thread(self._compose, now, settle)

    def _compose(self, now: datetime, settle: timedelta = timedelta(0)) -> int:
        with self.ctx.store.session() as s:
            return digest.compose_due(s, self.ctx.schedule, now, settle)

    # --- APScheduler callbacks -------------------------------------------------------------------
    async def _fire(self, job_id: str) -> None:
        now = clock.now()
        self.firing += 1
        try:
            with self.fence():
                report = await self.run_job(job_id, now, compose=False)
        except Fenced:
            log.warning("job %s refused: this process no longer leads", job_id)
            return
        except Exception:
            log.exception("job %s failed; the next heartbeat reconciles", job_id)
            self.failed_at = min(self.failed_at or now, now)
            return
        finally:
            self.firing -= 1
        if report.queued:  # every job of this minute queues first; then one message per person
            self.scheduler.add_job(self._compose_soon, trigger=DateTrigger(clock.now() + digest.SETTLE),
                                   id="runtime:compose", name="runtime:compose", replace_existing=True,
                                   misfire_grace_time=MISFIRE_GRACE)

    async def _compose_soon(self) -> None:
        try:
            with self.fence():
                await self.compose(settle=digest.SETTLE)
        except Fenced:
            log.warning("composing reminders refused: this process no longer leads")
        except Exception:
            log.exception("composing reminders failed; the next heartbeat retries")

    async def _heartbeat(self) -> None:
        now = clock.now()
        try:
            with self.fence():
                watermark = await asyncio.to_thread(self._watermark)
                if self.failed_at is not None or watermark is None or now - watermark > GAP:
                    await self.reconcile(now)
                else:
                    await asyncio.to_thread(self._set_watermark, now - MARGIN)
                    if not self.firing and self.scheduler.get_job("runtime:compose") is None:
                        await self.compose(now, settle=digest.SETTLE)  # held reminders released since
        except Fenced:
            log.warning("heartbeat refused: this process no longer leads")
        except Exception:
            log.exception("scheduler heartbeat failed")

    async def _digest(self) -> None:
        try:
            with self.fence():
                await self.digest()
        except Fenced:
            log.warning("office digest refused: this process no longer leads")
        except Exception:
            log.exception("office digest failed; the next reconcile retries")
            self.failed_at = self.failed_at or clock.now()

    def _watermark(self) -> datetime | None:
        with self.ctx.store.session() as s:
            return reminders.get_watermark(s)

    def _set_watermark(self, now: datetime) -> None:
        with self.ctx.store.session() as s:
            reminders.set_watermark(s, now)
