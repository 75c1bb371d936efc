"""The scheduler's work: open periods, remind those not done, close periods, catch up after downtime.

Every function here is a query over the store at a given `now` (never a clock read), so the
scheduler jobs, the catch-up on start and the tests run the same code. Jobs are per catalogue item
and action (see schedules.compiler), never per person.

- `open_item`: create the DutyInstance rows of the item's windows that contain `now`, one per
  member (idempotent: UNIQUE(duty, person, period)).
- `remind_item`: for each open window, the LATEST reminder due in (since, now] is queued for every
  instance still open and not done, as a ReminderItem (dedupe key `remind:<instance id>:<label>`)
  released at once or at the person's next daily digest (`release_at`), out of quiet hours;
  bot/services/digest.py turns a person's released items into ONE message. The job passes
  since = now - JOB_LOOKBACK; the catch-up passes the watermark, so a reminder missed during
  downtime is sent once, and only the most recent one.
- `close_due`: instances whose closes_at passed while still open become `missed`.
- `digest`: every morning (catalogue remind_at) the office gets the instances closed as missed in
  the previous 24 hours (dedupe key `digest:<person id>:<local date>`).
- `reconcile`: all of the above for every item, from the watermark kept in KeyValue.
  The very first run (no watermark) opens instances and sets the watermark without sending
  anything: a fresh install does not flood leaders with past reminders.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.services import exemptions, outbox, settings
from bot.store.models import Duty, DutyInstance, KeyValue, Outbox, Person, ReminderItem, Unit
from bot.texts import fmt
from bot.texts import reminders as T
from schedules import JobSpec, Schedule, Window
from schedules.catalog import QuietHours

WATERMARK_KEY = "scheduler.watermark"
JOB_LOOKBACK = timedelta(hours=6)  # a job firing late (misfire grace) still sends its reminder
WINDOW_LOOKBACK = timedelta(days=400)  # yearly windows plus their late days
SNOOZE = timedelta(hours=2)
DIGEST_LIMIT = 40  # lines in one digest message; the rest is counted
_CHUNK = 500


@dataclass
class Report:
    opened: int = 0
    queued: int = 0
    closed: int = 0
    digests: int = 0
    since: datetime | None = None
    details: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# watermark
# ------------------------------------------------------------------------------------------------
def get_watermark(session: Session) -> datetime | None:
    row = session.get(KeyValue, WATERMARK_KEY)
    return datetime.fromisoformat(row.value) if row and row.value else None


def set_watermark(session: Session, when: datetime) -> None:
    row = session.get(KeyValue, WATERMARK_KEY)
    if row is None:
        session.add(KeyValue(key=WATERMARK_KEY, value=when.isoformat(), updated_at=when))
    elif not row.value or datetime.fromisoformat(row.value) < when:  # never moves backwards
        row.value, row.updated_at = when.isoformat(), when
    session.flush()


# ------------------------------------------------------------------------------------------------
# windows and instances
# ------------------------------------------------------------------------------------------------
def _item(schedule: Schedule, item_id: str):
    for item in schedule.items():
        if item.id == item_id:
            return item
    raise KeyError(item_id)


def live_windows(schedule: Schedule, item_id: str, now: datetime) -> list[Window]:
    """Windows of the item that have opened and are not closed yet."""
    today = now.astimezone(schedule.tz).date()
    windows = schedule.item_windows(item_id, today - WINDOW_LOOKBACK, today + timedelta(days=1))
    return [w for w in windows if w.opens_at <= now < w.closes_at]


def _active_people(session: Session) -> set[str]:
    return set(session.exec(select(Person.id).where(Person.retired_at.is_(None))))  # type: ignore[union-attr]


def ensure_instances(session: Session, schedule: Schedule, window: Window, who, active: set[str]) -> int:
    """Create the window's missing instances; returns how many were created."""
    members = [p for p in schedule.members(who) if p.id in active
               and p.serves_on(window.opens_at.date(), window.due_at.date() + timedelta(days=1))]
    if not members:
        return 0
    existing = set(session.exec(select(DutyInstance.person_id).where(
        DutyInstance.duty_id == window.duty_id, DutyInstance.period_key == window.period_key)))
    missing = [p for p in members if p.id not in existing]
    if not missing:
        return 0

    def row(person_id: str) -> DutyInstance:
        return DutyInstance(duty_id=window.duty_id, person_id=person_id, period_key=window.period_key,
                            opens_at=window.opens_at, due_at=window.due_at, closes_at=window.closes_at,
                            required=window.required)

    try:
        with session.begin_nested():
            session.add_all([row(p.id) for p in missing])
            session.flush()
        return len(missing)
    except IntegrityError:  # another process opened the same window meanwhile: one by one
        created = 0
        for p in missing:
            try:
                with session.begin_nested():
                    session.add(row(p.id))
                    session.flush()
                created += 1
            except IntegrityError:
                pass
        return created


def open_item(session: Session, schedule: Schedule, item_id: str, now: datetime,
              active: set[str] | None = None) -> int:
    item = _item(schedule, item_id)
    active = _active_people(session) if active is None else active
    created = sum(ensure_instances(session, schedule, w, item.who, active) for w in live_windows(schedule, item_id, now))
    if created:  # a leave approved before the period opened covers its new instances too
        exemptions.excuse_covered(session, now, tz=schedule.tz)
    return created


# ------------------------------------------------------------------------------------------------
# reminders
# ------------------------------------------------------------------------------------------------
def latest_due(window: Window, now: datetime) -> tuple[str, datetime] | None:
    due = [(label, when) for label, when in window.reminders if when <= now]
    return due[-1] if due else None


def remind_item(session: Session, schedule: Schedule, item_id: str, now: datetime, since: datetime) -> int:
    """Queue, per live window, its latest reminder due in (since, now]; returns reminders queued."""
    queued = 0
    for window in live_windows(schedule, item_id, now):
        latest = latest_due(window, now)
        if latest is None or latest[1] <= since:
            continue
        queued += queue_window_reminders(session, schedule, window, latest[0], latest[1], now)
    return queued


def queue_window_reminders(session: Session, schedule: Schedule, window: Window, label: str, when: datetime,
                           now: datetime) -> int:
    """A ReminderItem per open instance of the window; bot/services/digest.py sends them, one
    message per person and moment. Returns how many were queued (the same reminder twice: none)."""
    if session.get(Duty, window.duty_id) is None:  # not synced; sync runs on start, so this is transient
        return 0
    rows = session.exec(
        select(DutyInstance, Person.telegram_id)
        .join(Person, Person.id == DutyInstance.person_id)
        .where(DutyInstance.duty_id == window.duty_id, DutyInstance.period_key == window.period_key,
               DutyInstance.status == "open", DutyInstance.done_count < DutyInstance.required,
               Person.telegram_id.is_not(None), Person.retired_at.is_(None))  # type: ignore[union-attr]
    ).all()
    if not rows:
        return 0
    modes = settings.digest_modes(session, schedule.catalog, {inst.person_id for inst, _ in rows})
    lead = lead_for(label)
    items = [ReminderItem(dedupe_key=f"remind:{inst.id}:{label}", instance_id=inst.id, person_id=inst.person_id,
                          chat_id=tg, label=label, lead=lead, created_at=now,
                          release_at=release_at(schedule, modes[inst.person_id], inst, when, now))
             for inst, tg in rows]
    return insert_new(session, items)


def release_at(schedule: Schedule, mode: str, instance: DutyInstance, when: datetime, now: datetime) -> datetime:
    """When a reminder scheduled for `when` may go out: at once ("each"), or at the next daily
    digest ("daily") unless it was scheduled at the digest time itself or the duty falls due
    before the next digest; in both cases out of the quiet hours."""
    release = max(when, now)
    if mode == "daily":
        remind_at = schedule.catalog.defaults.remind_at
        local = when.astimezone(schedule.tz)
        if local.time().replace(tzinfo=None, second=0, microsecond=0) != remind_at:
            moment = datetime.combine(local.date(), remind_at, schedule.tz)
            if moment < when:
                moment = datetime.combine(local.date() + timedelta(days=1), remind_at, schedule.tz)
            if moment < instance.due_at:
                release = max(moment, now)
    return out_of_quiet(release, schedule.catalog.defaults.quiet_hours, schedule)


def insert_new(session: Session, rows: list) -> int:
    """Insert rows (ReminderItem or Outbox: a unique `dedupe_key`) whose key is not taken yet,
    one dedupe query per chunk; returns how many were inserted."""
    model = type(rows[0]) if rows else Outbox
    inserted = 0
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start:start + _CHUNK]
        keys = [r.dedupe_key for r in chunk]
        seen = set(session.exec(select(model.dedupe_key).where(model.dedupe_key.in_(keys))))  # type: ignore[attr-defined]
        fresh = [r for r in chunk if r.dedupe_key not in seen]
        if not fresh:
            continue
        try:
            with session.begin_nested():
                session.add_all(fresh)
                session.flush()
            inserted += len(fresh)
        except IntegrityError:  # raced with another writer: one by one
            for r in fresh:
                try:
                    with session.begin_nested():
                        session.add(r)  # expunged by the rollback: transient again
                        session.flush()
                    inserted += 1
                except IntegrityError:
                    pass
    return inserted


def enqueue_many(session: Session, messages: list[Outbox]) -> int:
    """outbox.enqueue for many rows at once: one dedupe query per chunk instead of one per row."""
    return insert_new(session, messages)


def lead_for(label: str) -> str:
    if label == "open":
        return T.LEAD_OPEN
    if m := re.fullmatch(r"([+-]?)(\d+(?:\.\d+)?)([dh])", label):
        sign, amount, unit = m[1], m[2], m[3]
        amount_txt = amount.rstrip("0").rstrip(".") if "." in amount else amount
        if float(amount) == 0:
            return T.LEAD_DUE_TODAY
        if unit == "d":
            return (T.LEAD_OVERDUE_DAYS if sign == "+" else T.LEAD_BEFORE_DAYS).format(days=amount_txt)
        return (T.LEAD_OVERDUE_HOURS if sign == "+" else T.LEAD_BEFORE_HOURS).format(hours=amount_txt)
    return T.LEAD_OPEN


def reminder_buttons(instance_id: int) -> outbox.Buttons:
    return [
        [outbox.button(T.BUTTON_DONE, f"r:done:{instance_id}"), outbox.button(T.BUTTON_UPLOAD, f"r:upload:{instance_id}")],
        [outbox.button(T.BUTTON_SNOOZE, f"r:snooze:{instance_id}"), outbox.button(T.BUTTON_CLAUSE, f"r:clause:{instance_id}")],
        [exemptions.ask_button(instance_id)],
    ]


def reminder_text(instance: DutyInstance, duty: Duty, lead: str) -> str:
    return T.REMINDER.format(
        lead=lead, title=duty.title, source=source_excerpt(duty), period=fmt.period(instance.period_key),
        due=fmt.moment(instance.due_at), done=instance.done_count, required=instance.required,
    )


def reminder_payload(instance: DutyInstance, duty: Duty, lead: str) -> dict:
    """A reminder message; `if_open` lets the sender skip it if the instance is done meanwhile,
    `instances` tells what a reply to it is about (bot/services/routing.py)."""
    payload = outbox.text(reminder_text(instance, duty, lead), reminder_buttons(instance.id))
    payload["if_open"] = instance.id
    payload["instances"] = [instance.id]
    return payload


_SEGMENT = re.compile(r"[^,，;；。:：]+[,，;；。:：]?")
_NUMBER = re.compile(r"^\s*([（(][一二三四五六七八九十百\d]+[)）]|\d+[.、]|[一二三四五六七八九十]+、)")


def source_excerpt(duty: Duty, limit: int = 60) -> str:
    """《document》 plus the part of the clause that best matches the duty's title, shortened:
    a whole clause can be several hundred characters, the reminder quotes the relevant phrase."""
    clause = (duty.source_clause or "").strip()
    document = duty.source_document or ""
    if not clause:
        return T.SOURCE.format(document=document, excerpt="") if document else "—"
    if len(clause) <= limit:
        return T.SOURCE.format(document=document, excerpt=clause) if document else clause
    number = _NUMBER.match(clause)
    prefix = number[1] if number else ""
    title_pairs = {duty.title[i:i + 2] for i in range(len(duty.title) - 1)}
    segments = [s.strip() for s in _SEGMENT.findall(clause) if s.strip()]

    def score(seg: str) -> int:
        return sum(1 for i in range(len(seg) - 1) if seg[i:i + 2] in title_pairs)

    best = max(segments, key=score) if segments else clause
    best = best.rstrip(",，;；。:：")
    if best.startswith(prefix):
        prefix = ""
    if len(best) > limit:
        best = best[:limit] + "…"
    excerpt = f"{prefix}…{best}…" if prefix or not clause.startswith(best) else f"{best}…"
    return T.SOURCE.format(document=document, excerpt=excerpt) if document else excerpt


def snooze_until(now: datetime, schedule: Schedule) -> datetime:
    """Two hours from now, moved out of the catalogue's quiet hours."""
    return out_of_quiet(now + SNOOZE, schedule.catalog.defaults.quiet_hours, schedule)


def out_of_quiet(when: datetime, quiet: QuietHours, schedule: Schedule) -> datetime:
    local = when.astimezone(schedule.tz)
    t = local.time().replace(tzinfo=None)
    if not quiet.contains(t):
        return when
    day = local.date() if t < quiet.end else local.date() + timedelta(days=1)
    return datetime.combine(day, quiet.end, schedule.tz)


# ------------------------------------------------------------------------------------------------
# closing and the office digest
# ------------------------------------------------------------------------------------------------
def close_due(session: Session, now: datetime, item_id: str | None = None) -> int:
    stmt = (update(DutyInstance)
            .where(DutyInstance.status == "open", DutyInstance.closes_at <= now)
            .values(status="missed", closed_at=now))
    if item_id is not None:
        stmt = stmt.where(DutyInstance.duty_id == item_id)
    result = session.exec(stmt)  # type: ignore[call-overload]
    session.flush()
    return result.rowcount or 0


def digest_moment(schedule: Schedule, day) -> datetime:
    remind_at: time = schedule.catalog.defaults.remind_at
    return datetime.combine(day, remind_at, schedule.tz)


def digest(session: Session, schedule: Schedule, now: datetime) -> int:
    """The morning digest for the office: missed instances closed in the 24 hours before today's
    remind_at. Before that moment, or with nothing to report, nothing is queued."""
    today = now.astimezone(schedule.tz).date()
    end = digest_moment(schedule, today)
    if now < end:
        return 0
    start = digest_moment(schedule, today - timedelta(days=1))
    rows = session.exec(
        select(DutyInstance, Person, Duty)
        .join(Person, Person.id == DutyInstance.person_id)
        .join(Duty, Duty.id == DutyInstance.duty_id)
        .where(DutyInstance.status == "missed", DutyInstance.closed_at >= start, DutyInstance.closed_at < end)
        .order_by(Person.unit_id, Person.name, DutyInstance.due_at)
    ).all()
    if not rows:
        return 0
    units = {u.id: u.name for u in session.exec(select(Unit))}
    lines = [T.DIGEST_LINE.format(unit=units.get(p.unit_id, p.unit_id), person=p.name, title=d.title,
                                  period=fmt.period(i.period_key), due=fmt.moment(i.due_at))
             for i, p, d in rows[:DIGEST_LIMIT]]
    if len(rows) > DIGEST_LIMIT:
        lines.append(T.DIGEST_MORE.format(more=len(rows) - DIGEST_LIMIT))
    body = T.DIGEST.format(day=fmt.day(end), count=len(rows), lines="\n".join(lines))
    office = session.exec(select(Person).where(Person.is_office, Person.telegram_id.is_not(None),  # type: ignore[arg-type]
                                               Person.retired_at.is_(None))).all()  # type: ignore[union-attr]
    messages = [Outbox(chat_id=p.telegram_id, person_id=p.id, priority=outbox.ROUTINE, payload=outbox.text(body),
                       dedupe_key=f"digest:{p.id}:{today.isoformat()}")
                for p in office]
    return enqueue_many(session, messages)


# ------------------------------------------------------------------------------------------------
# entry points for the scheduler
# ------------------------------------------------------------------------------------------------
def run_job(session: Session, schedule: Schedule, spec: JobSpec, now: datetime) -> Report:
    report = Report()
    if spec.action == "open":
        report.opened = open_item(session, schedule, spec.duty_id, now)
    elif spec.action == "remind":
        report.opened = open_item(session, schedule, spec.duty_id, now)
        report.queued = remind_item(session, schedule, spec.duty_id, now, now - JOB_LOOKBACK)
    elif spec.action == "close":
        report.closed = close_due(session, now, spec.duty_id)
    else:
        raise ValueError(f"unknown job action {spec.action!r}")
    return report


def reconcile(session: Session, schedule: Schedule, now: datetime, items: Iterable[str] | None = None) -> Report:
    """Catch up from the watermark to `now` (see the module docstring), then move the watermark."""
    since = get_watermark(session)
    report = Report(since=since)
    active = _active_people(session)
    for item_id in items if items is not None else [i.id for i in schedule.items()]:
        report.opened += open_item(session, schedule, item_id, now, active)
        if since is not None:
            report.queued += remind_item(session, schedule, item_id, now, since)
    report.closed = close_due(session, now)
    if since is not None:
        report.digests = digest(session, schedule, now)
    set_watermark(session, now)
    return report
