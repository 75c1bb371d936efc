"""Catalogue → scheduler job specs.

One job per schedulable item and action (open, each reminder offset, close), never per person:
a job's work is a query over the store, so 10 or 10,000 leaders give the same number of jobs.
Fire times come from `next_fire_time`, which the bot wraps in an APScheduler trigger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .catalog import Catalog
from .windows import Schedule, Window

# How far ahead to look for the next fire time: a yearly window plus its late days.
LOOKAHEAD = timedelta(days=800)


@dataclass(frozen=True)
class JobSpec:
    id: str  # stable across restarts: "<item id>:open", "<item id>:remind:-3d", "<item id>:close"
    duty_id: str
    action: str  # "open" | "remind" | "close"
    label: str = ""  # the reminder offset for "remind"


def compile_jobs(catalog: Catalog) -> list[JobSpec]:
    schedule = Schedule(catalog)
    defaults = catalog.defaults.reminders
    jobs: list[JobSpec] = []
    for item in schedule.items():
        jobs.append(JobSpec(f"{item.id}:open", item.id, "open"))
        for r in item.reminders if item.reminders is not None else defaults:
            jobs.append(JobSpec(f"{item.id}:remind:{r.label}", item.id, "remind", r.label))
        jobs.append(JobSpec(f"{item.id}:close", item.id, "close"))
    return jobs


def _fire_times(spec: JobSpec, window: Window) -> list[datetime]:
    if spec.action == "open":
        return [window.opens_at]
    if spec.action == "close":
        return [window.closes_at]
    return [when for label, when in window.reminders if label == spec.label]


def _lookahead(schedule: Schedule, spec: JobSpec) -> timedelta:
    """A duty due every n years has its next window up to n years ahead."""
    duty = schedule.catalog.duty_by_id.get(spec.duty_id)
    if duty is not None and duty.frequency is not None and duty.frequency.every.value == "year":
        return max(LOOKAHEAD, timedelta(days=366 * duty.frequency.n + 60))
    return LOOKAHEAD


def next_fire_time(schedule: Schedule, spec: JobSpec, after: datetime) -> datetime | None:
    """The first fire time of `spec` strictly after `after`, or None when there is none left."""
    local = after.astimezone(schedule.tz).date()
    # Windows that opened up to a year ago can still have reminders or a close ahead.
    windows = schedule.item_windows(spec.duty_id, local - timedelta(days=400), local + _lookahead(schedule, spec))
    times = [t for w in windows for t in _fire_times(spec, w) if t > after]
    return min(times, default=None)
