"""Who has reported and who has not: the office's view of the current periods.

"Current" means the instances whose window contains now (opens_at <= now < closes_at): what can
still be reported. With 1.5 M instance rows the open ones are found through
ix_instance_status_due (status, due_at) and the current window through ix_instance_closes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from bot.services import outbox, reminders
from bot.store.models import AuditLog, Duty, DutyInstance, Person, Unit
from bot.texts import fmt
from bot.texts import office as OT
from bot.texts import reminders as RT
from schedules import Schedule

STATUSES = ("open", "done", "late", "missed", "excused")


@dataclass(frozen=True)
class Row:
    instance_id: int
    person_id: str
    person: str
    telegram_id: int | None
    unit_id: str
    unit: str
    duty_id: str
    title: str
    kind: str
    period: str
    opens_at: datetime
    due_at: datetime
    closes_at: datetime
    done: int
    required: int
    status: str

    def as_json(self, tz: ZoneInfo = fmt.SHANGHAI) -> dict:
        """The `dutybot status --format json` object."""
        return {"person": self.person, "unit": self.unit, "duty": self.duty_id, "period": self.period,
                "due_at": self.due_at.astimezone(tz).isoformat(), "done": self.done, "required": self.required,
                "status": self.status}

    def days_overdue(self, now: datetime, tz: ZoneInfo = fmt.SHANGHAI) -> int:
        """Calendar days past the due day (0 while not overdue)."""
        if now <= self.due_at:
            return 0
        return max((now.astimezone(tz).date() - self.due_at.astimezone(tz).date()).days, 1)


COLUMNS = (
    DutyInstance.id, Person.id, Person.name, Person.telegram_id, Person.unit_id, Unit.name, DutyInstance.duty_id,
    Duty.title, Duty.kind, DutyInstance.period_key, DutyInstance.opens_at, DutyInstance.due_at,
    DutyInstance.closes_at, DutyInstance.done_count, DutyInstance.required, DutyInstance.status,
)


def to_row(values) -> Row:
    """A Row from a result tuple of COLUMNS (in that order)."""
    (iid, pid, name, tg, uid, unit, duty_id, title, kind, period, opens, due, closes, done, required, st) = values
    return Row(instance_id=iid, person_id=pid, person=name, telegram_id=tg, unit_id=uid, unit=unit or uid,
               duty_id=duty_id, title=title or duty_id, kind=kind or "other", period=period, opens_at=opens,
               due_at=due, closes_at=closes, done=done, required=required, status=st)


def _rows(session: Session, *conditions, unit_id: str | None = None) -> list[Row]:
    # Plain columns, not ORM objects: tens of thousands of rows materialize several times faster.
    query = (
        select(*COLUMNS)
        .join(Person, Person.id == DutyInstance.person_id)
        .join(Duty, Duty.id == DutyInstance.duty_id, isouter=True)
        .join(Unit, Unit.id == Person.unit_id, isouter=True)
        .where(*conditions)
    )
    if unit_id is not None:
        query = query.where(Person.unit_id == unit_id)
    out = [to_row(values) for values in session.exec(query)]
    out.sort(key=lambda r: (r.unit_id, r.person_id, r.due_at, r.duty_id, r.period))
    return out


def current(session: Session, now: datetime, *, unit_id: str | None = None,
            statuses: Iterable[str] = STATUSES) -> list[Row]:
    """Instances whose window contains now."""
    statuses = list(statuses)
    conditions = [DutyInstance.opens_at <= now, DutyInstance.closes_at > now]
    if set(statuses) != set(STATUSES):
        conditions.append(DutyInstance.status.in_(statuses))  # type: ignore[attr-defined]
    return _rows(session, *conditions, unit_id=unit_id)


def for_period(session: Session, period_key: str, *, unit_id: str | None = None,
               statuses: Iterable[str] = STATUSES) -> list[Row]:
    """Instances of one period key (2026-11, 2026-Q4, 2026, a task id...)."""
    statuses = list(statuses)
    conditions = [DutyInstance.period_key == period_key]
    if set(statuses) != set(STATUSES):
        conditions.append(DutyInstance.status.in_(statuses))  # type: ignore[attr-defined]
    return _rows(session, *conditions, unit_id=unit_id)


def not_reported(session: Session, now: datetime, unit_id: str | None = None) -> list[Row]:
    """Who has not reported for the current periods: open instances whose window contains now."""
    return _rows(session, DutyInstance.status == "open", DutyInstance.opens_at <= now,
                 DutyInstance.closes_at > now, unit_id=unit_id)


def unreported_by_unit(session: Session, now: datetime) -> dict[str, int]:
    """Per unit, how many instances of the current periods are not reported (the office's one
    screen). One GROUP BY; the covering index ix_instance_open_person answers each person's count
    without reading the instances (1.5 M rows: bench/RESULTS.md)."""
    query = (select(Person.unit_id, func.count(DutyInstance.id))
             .join(Person, Person.id == DutyInstance.person_id)
             .where(DutyInstance.status == "open", DutyInstance.opens_at <= now, DutyInstance.closes_at > now)
             .group_by(Person.unit_id))
    return {unit: int(n) for unit, n in session.exec(query)}


def find_unit(session: Session, text: str) -> Unit | list[Unit] | None:
    """A unit by id or name; a part of a name when it names one unit. A list when ambiguous."""
    text = text.strip()
    units = list(session.exec(select(Unit).where(Unit.retired_at.is_(None))))  # type: ignore[union-attr]
    for u in units:
        if text in (u.id, u.name):
            return u
    matches = [u for u in units if text in u.name or text in u.id]
    if len(matches) == 1:
        return matches[0]
    return matches or None


# -- completion rates ---------------------------------------------------------------------------
@dataclass
class Progress:
    """How far the current periods have got (open ones included). Not the assessment score: see
    assessment.Tally, which counts only closed instances and weighs late ones."""

    total: int = 0
    done: int = 0
    late: int = 0
    missed: int = 0
    open: int = 0
    excused: int = 0

    def add(self, status: str, count: int = 1) -> None:
        self.total += count
        setattr(self, status, getattr(self, status, 0) + count)

    @property
    def counted(self) -> int:
        """Instances that count for the rate: excused ones do not."""
        return self.total - self.excused

    @property
    def completed(self) -> int:
        return self.done + self.late

    @property
    def rate(self) -> float | None:
        return None if self.counted == 0 else self.completed / self.counted


@dataclass
class Stats:
    overall: Progress = field(default_factory=Progress)
    by_unit: dict[str, Progress] = field(default_factory=lambda: defaultdict(Progress))
    by_kind: dict[str, Progress] = field(default_factory=lambda: defaultdict(Progress))
    unit_names: dict[str, str] = field(default_factory=dict)


def current_window(now: datetime, *columns):
    """The instances whose window contains now, as a materialized CTE of `columns`: computed first
    through ix_instance_closes (SQLite would otherwise walk every instance of every person to
    group them: 3.7 s instead of 0.3 s at 1.5 M instances; bench/web.py)."""
    return (select(*columns).where(DutyInstance.opens_at <= now, DutyInstance.closes_at > now)
            .cte("current_window").prefix_with("MATERIALIZED"))


def current_stats(session: Session, now: datetime, unit_id: str | None = None) -> Stats:
    """The completion rates of the current periods, counted by the database (/stats): one row per
    unit, kind and status instead of one per instance."""
    cur = current_window(now, DutyInstance.person_id, DutyInstance.duty_id, DutyInstance.status)
    query = (
        select(Person.unit_id, Unit.name, Duty.kind, cur.c.status, func.count())
        .select_from(cur)
        .join(Person, Person.id == cur.c.person_id)
        .join(Duty, Duty.id == cur.c.duty_id, isouter=True)
        .join(Unit, Unit.id == Person.unit_id, isouter=True)
        .group_by(Person.unit_id, Unit.name, Duty.kind, cur.c.status)
    )
    if unit_id is not None:
        query = query.where(Person.unit_id == unit_id)
    out = Stats()
    for uid, unit, kind, st, count in session.exec(query):
        if st not in STATUSES:
            continue
        for tally in (out.overall, out.by_unit[uid], out.by_kind[kind or "other"]):
            tally.add(st, count)
        out.unit_names[uid] = unit or uid
    return out


def stats(rows: Iterable[Row]) -> Stats:
    out = Stats()
    for r in rows:
        if r.status not in STATUSES:
            continue
        out.overall.add(r.status)
        out.by_unit[r.unit_id].add(r.status)
        out.by_kind[r.kind].add(r.status)
        out.unit_names[r.unit_id] = r.unit
    return out


# -- 一键催报 --------------------------------------------------------------------------------------
@dataclass
class Nudged:
    queued: int = 0  # reminders queued now
    already: int = 0  # reminded today already
    unbound: int = 0  # the person has no Telegram binding
    people: set[str] = field(default_factory=set)
    send_at: datetime | None = None  # when they go out (later than now inside quiet hours)


def nudge(session: Session, now: datetime, schedule: Schedule, *, unit_id: str | None = None,
          by: str | None = None) -> Nudged:
    """Remind everyone who has not reported, once per instance per day (outside quiet hours)."""
    return nudge_rows(session, not_reported(session, now, unit_id), now, schedule, by=by, scope={"unit": unit_id})


def nudge_key(instance_id: int, now: datetime, tz) -> str:
    """The outbox dedupe key of today's nudge for an instance (one per instance per day)."""
    return f"nudge:{instance_id}:{now.astimezone(tz).date().isoformat()}"


def nudge_rows(session: Session, rows: Iterable[Row], now: datetime, schedule: Schedule, *, by: str | None = None,
               scope: dict | None = None) -> Nudged:
    """Remind the people of these rows (open ones only), once per instance per day."""
    result = Nudged()
    send_at = reminders.out_of_quiet(now, schedule.catalog.defaults.quiet_hours, schedule)
    result.send_at = send_at
    duties: dict[str, Duty | None] = {}
    for r in rows:
        if r.status != "open":
            continue
        if r.telegram_id is None:
            result.unbound += 1
            continue
        if r.duty_id not in duties:
            duties[r.duty_id] = session.get(Duty, r.duty_id)
        inst = session.get(DutyInstance, r.instance_id)
        duty = duties[r.duty_id] or Duty(id=r.duty_id, title=r.title)
        row = outbox.enqueue(session, chat_id=r.telegram_id, payload=reminders.reminder_payload(inst, duty, RT.LEAD_NUDGE),
                             dedupe_key=nudge_key(r.instance_id, now, schedule.tz), priority=outbox.ROUTINE,
                             person_id=r.person_id, not_before=send_at)
        if row is None:
            result.already += 1
        else:
            result.queued += 1
            result.people.add(r.person_id)
    session.add(AuditLog(at=now, person_id=by, action="nudge",
                         detail={**(scope or {}), "queued": result.queued, "already": result.already,
                                 "unbound": result.unbound}))
    return result


# -- what the office reads -------------------------------------------------------------------------
MESSAGE_LIMIT = 3500  # Telegram allows 4096 characters; leave room for the continuation mark


def split_message(lines: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join lines into as few messages as fit, never cutting a line."""
    parts: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if current and len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return [p if i == 0 else OT.CONTINUED.format(n=i + 1) + "\n" + p for i, p in enumerate(parts)]


def _when(row: Row, now: datetime, tz) -> str:
    days = row.days_overdue(now, tz)
    if days:
        return OT.OVERDUE_DAYS.format(days=days)
    left = (row.due_at.astimezone(tz).date() - now.astimezone(tz).date()).days
    return OT.OVERDUE_TODAY if left <= 0 else OT.OVERDUE_LEFT.format(days=left)


def overdue_messages(rows: list[Row], now: datetime, tz=fmt.SHANGHAI, unit: Unit | None = None) -> list[str]:
    """/overdue: who has not reported, grouped by unit, with due dates and days overdue."""
    scope = OT.OVERDUE_SCOPE_UNIT.format(unit=unit.name) if unit else OT.OVERDUE_SCOPE_ALL
    if not rows:
        return [OT.OVERDUE_NONE.format(scope=scope, now=fmt.moment(now, tz))]
    late = sum(1 for r in rows if r.due_at < now)
    lines = [OT.OVERDUE_HEAD.format(scope=scope, now=fmt.moment(now, tz), people=len({r.person_id for r in rows}),
                                    count=len(rows), late=late)]
    by_unit: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_unit[r.unit_id].append(r)
    # Units with the most overdue work first, then by name; within a unit the nearest due first.
    order = sorted(by_unit, key=lambda u: (-sum(1 for r in by_unit[u] if r.due_at < now), u))
    for unit_id in order:
        group = sorted(by_unit[unit_id], key=lambda r: (r.due_at, r.person_id, r.duty_id))
        lines.append(OT.OVERDUE_UNIT.format(unit=group[0].unit, count=len(group)))
        for r in group:
            lines.append(OT.OVERDUE_LINE.format(person=r.person, title=r.title, period=fmt.period(r.period),
                                                done=r.done, required=r.required, due=fmt.moment(r.due_at, tz),
                                                when=_when(r, now, tz)))
    lines.append(OT.OVERDUE_HINT.format(unit=f" {unit.name}" if unit else ""))
    return split_message(lines)


def _rate(t: Progress) -> str:
    return OT.RATE_NONE if t.rate is None else f"{t.rate:.0%}"


def stats_message(s: Stats, now: datetime, tz=fmt.SHANGHAI) -> list[str]:
    """/stats: completion rates of the current periods, overall, per unit and per kind of duty."""
    if s.overall.total == 0:
        return [OT.STATS_NONE]

    def long(t: Progress) -> str:
        return OT.STATS_LINE.format(completed=t.completed, counted=t.counted, rate=_rate(t), late=t.late,
                                    missed=t.missed, open=t.open)

    def short(t: Progress) -> str:
        return OT.STATS_LINE_SHORT.format(completed=t.completed, counted=t.counted, rate=_rate(t))

    def worst_first(items: dict[str, Progress]) -> list[str]:
        return sorted(items, key=lambda k: (items[k].rate if items[k].rate is not None else 2, k))

    lines = [OT.STATS_HEAD.format(now=fmt.moment(now, tz), line=long(s.overall)), OT.STATS_UNITS]
    lines += [OT.STATS_ROW.format(name=s.unit_names.get(u, u), line=short(s.by_unit[u])) for u in worst_first(s.by_unit)]
    lines.append(OT.STATS_KINDS)
    lines += [OT.STATS_ROW.format(name=OT.KIND_NAMES.get(k, k), line=short(s.by_kind[k])) for k in worst_first(s.by_kind)]
    return split_message(lines)
