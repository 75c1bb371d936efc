"""Exemptions (免考核): a leader on leave, on a trip or on other official business asks; the office
approves or refuses with one tap; approved, the person's instances due in those days become excused.
The office may later revoke an approval with a reason (`revoke`, from the web console): the
instances count again.

Life of a request (Exemption.state): draft (the leader chose the kind from a reminder and is about
to type reason and dates; nothing is sent) → pending (the office was asked) → approved | refused,
and approved → revoked. The decision is chained in the ledger (kind "exemption", hashed as it was
taken) and so is a revocation (an ExemptionRevocation row, kind "revocation": who, when, why,
which instances count again); nothing else changes the row.

Which instances an approval excuses: the person's instances due (local date) within the dates,
plus the instance the request was made from, as long as they are open or missed. Done and late
ones keep their credit. Instances created later (a period that opens during an approved leave)
are excused by `excuse_covered`, which the instance opener and a daily sweep may call.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, update
from sqlmodel import Session, select

from bot.services import ledger, outbox
from bot.store.models import (
    AuditLog,
    CheckInDraft,
    Duty,
    DutyInstance,
    Exemption,
    ExemptionRevocation,
    Outbox,
    Person,
    Unit,
)
from bot.texts import assessment as t
from bot.texts import fmt

SHANGHAI = ZoneInfo("Asia/Shanghai")
KINDS = t.KINDS
DRAFT_TTL = timedelta(minutes=30)
MAX_REASON = 500
MAX_DAYS = 92
MAX_PAST_DAYS = 31  # a leave may be reported afterwards, within a month
MAX_AHEAD_DAYS = 366


class ExemptionError(ValueError):
    """Bad input from the leader: the message says what to fix; nothing was changed."""


# ---------------------------------------------------------------------------------------------
# Reading what the leader wrote: "参加市安委会会议 6月3日-6月5日"
# ---------------------------------------------------------------------------------------------
_DATE = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?"
    r"|(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号]?"
    r"|(?<![\d.])(?P<m3>\d{1,2})[./](?P<d3>\d{1,2})(?![\d.])"
    r"|(?P<d4>\d{1,2})\s*[日号]"
)
_SEPARATOR = re.compile(r"\s*(?:-|~|～|—|–|－|至|到)+\s*")
_TRIM = " \t\n,，。；;：:、"


@dataclass(frozen=True)
class Request:
    reason: str
    start: date | None
    end: date | None


def _infer_year(month: int, day: int, today: date) -> date:
    """A month and day without a year: the nearest such date (in December, "1月3日" is next year's)."""
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        with contextlib.suppress(ValueError):  # 2月29日 exists only in leap years
            candidates.append(date(year, month, day))
    if not candidates:
        raise ValueError(f"no such day: {month}-{day}")
    return min(candidates, key=lambda d: abs((d - today).days))


def parse_request(text: str, today: date) -> Request:
    """Reason and (optional) dates from free text. Raises ExemptionError on an unreadable date."""
    found = list(_DATE.finditer(text))[:2]
    dates: list[date] = []
    for n, m in enumerate(found):
        try:
            if m["y"]:
                dates.append(date(int(m["y"]), int(m["m"]), int(m["d"])))
            elif m["m2"] or m["m3"]:
                dates.append(_infer_year(int(m["m2"] or m["m3"]), int(m["d2"] or m["d3"]), today))
            elif n == 1 and dates:  # "6月3日至5日": the month of the first date
                first = dates[0]
                dates.append(date(first.year, first.month, int(m["d4"])))
            else:
                raise ExemptionError(t.ERR_DATE_BAD.format(text=m[0]))
        except ValueError as e:
            if isinstance(e, ExemptionError):
                raise
            raise ExemptionError(t.ERR_DATE_BAD.format(text=m[0])) from None
    if len(found) == 2 and not _SEPARATOR.fullmatch(text[found[0].end():found[1].start()] or "-"):
        # Two dates that are not a range ("6月3日 和 6月9日"): only the first is a date.
        found, dates = found[:1], dates[:1]
    reason = text
    if found:
        lo, hi = found[0].start(), found[-1].end()
        reason = (text[:lo] + " " + text[hi:])
    reason = re.sub(r"\s+", " ", reason).strip(_TRIM)
    start = dates[0] if dates else None
    end = dates[-1] if dates else None
    return Request(reason, start, end)


def _check(kind: str, reason: str, start: date, end: date, today: date) -> None:
    if kind not in KINDS:
        raise ExemptionError(t.ERR_KIND)
    if not reason:
        raise ExemptionError(t.ERR_REASON)
    if len(reason) > MAX_REASON:
        raise ExemptionError(t.ERR_REASON_LONG.format(n=MAX_REASON))
    if end < start:
        raise ExemptionError(t.ERR_DATE_ORDER)
    if (end - start).days + 1 > MAX_DAYS:
        raise ExemptionError(t.ERR_DATE_SPAN.format(n=MAX_DAYS))
    if (today - start).days > MAX_PAST_DAYS:
        raise ExemptionError(t.ERR_DATE_PAST.format(n=MAX_PAST_DAYS))
    if (start - today).days > MAX_AHEAD_DAYS:
        raise ExemptionError(t.ERR_DATE_FUTURE.format(n=MAX_AHEAD_DAYS))


def _midnight(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(0), tz).astimezone(UTC)


def local_dates(ex: Exemption, tz: ZoneInfo = SHANGHAI) -> tuple[date, date]:
    """The first and last day (inclusive, local) an exemption covers."""
    assert ex.date_from is not None and ex.date_to is not None
    return ex.date_from.astimezone(tz).date(), ex.date_to.astimezone(tz).date()


def dates_text(ex: Exemption, tz: ZoneInfo = SHANGHAI) -> str:
    a, b = local_dates(ex, tz)
    one = f"{a.month}月{a.day}日"
    if a == b:
        return one
    two = f"{b.month}月{b.day}日" if a.year == b.year else f"{b.year}年{b.month}月{b.day}日"
    return f"{one}—{two}"


def ask_button(instance_id: int) -> dict[str, str]:
    """The 申请免考核 button for a reminder (bot/services/reminders.py adds it to its keyboard)."""
    return outbox.button(t.EXEMPT_BUTTON, f"x:ask:{instance_id}")


# ---------------------------------------------------------------------------------------------
# Drafts (from a reminder's button) and requests
# ---------------------------------------------------------------------------------------------
def own_instance(session: Session, person_id: str, instance_id: int) -> DutyInstance:
    inst = session.get(DutyInstance, instance_id)
    if inst is None or inst.person_id != person_id:
        raise ExemptionError(t.EXEMPT_INSTANCE_GONE)
    return inst


def start_draft(session: Session, person_id: str, kind: str, now: datetime,
                instance_id: int | None = None) -> Exemption:
    """The leader chose a kind; their next message gives reason and dates. Older drafts are dropped."""
    if kind not in KINDS:
        raise ExemptionError(t.ERR_KIND)
    if instance_id is not None:
        own_instance(session, person_id, instance_id)
    drop_drafts(session, person_id)
    row = Exemption(person_id=person_id, instance_id=instance_id, reason_kind=kind, state="draft",
                    requested_at=now)
    session.add(row)
    session.flush()
    return row


def drop_drafts(session: Session, person_id: str) -> int:
    result = session.execute(update(Exemption).where(Exemption.person_id == person_id, Exemption.state == "draft")
                             .values(state="dropped"))
    return result.rowcount or 0


def open_draft(session: Session, person_id: str, now: datetime) -> Exemption | None:
    """The person's draft still waiting for its text, if it is recent and the leader did not
    start a check-in (报告完成) after it: the latest tap says what the next text is for."""
    draft = session.exec(
        select(Exemption).where(Exemption.person_id == person_id, Exemption.state == "draft",
                                Exemption.requested_at > now - DRAFT_TTL)
        .order_by(Exemption.id.desc())  # type: ignore[union-attr]
    ).first()
    if draft is None:
        return None
    later_checkin = session.exec(
        select(CheckInDraft.id).where(CheckInDraft.person_id == person_id, CheckInDraft.state == "awaiting",
                                      CheckInDraft.created_at > draft.requested_at).limit(1)
    ).first()
    return None if later_checkin is not None else draft


def submit(session: Session, person_id: str, kind: str, text: str, now: datetime, *, tz: ZoneInfo = SHANGHAI,
           instance_id: int | None = None, draft: Exemption | None = None) -> Exemption:
    """Validate and file a request (state pending); `ask_office` then asks. Bad input changes nothing."""
    if kind not in KINDS:
        raise ExemptionError(t.ERR_KIND)
    today = now.astimezone(tz).date()
    req = parse_request(text, today)
    inst = own_instance(session, person_id, instance_id) if instance_id is not None else None
    start, end = req.start, req.end
    if start is None:
        if inst is None:
            raise ExemptionError(t.ERR_DATES)
        start = end = inst.due_at.astimezone(tz).date()
    assert end is not None
    _check(kind, req.reason, start, end, today)
    row = draft if draft is not None else Exemption(person_id=person_id)
    row.instance_id = instance_id
    row.reason_kind = kind
    row.reason = req.reason
    row.date_from = _midnight(start, tz)
    row.date_to = _midnight(end, tz)
    row.requested_at = now
    row.state = "pending"
    session.add(row)
    session.flush()
    if draft is None:
        drop_drafts(session, person_id)
    session.add(AuditLog(at=now, person_id=person_id, action="exemption.request",
                         detail={"exemption_id": row.id, "kind": kind, "from": start.isoformat(),
                                 "to": end.isoformat(), "instance_id": instance_id}))
    return row


def _item_text(session: Session, instance_id: int | None, template: str) -> str:
    if instance_id is None:
        return ""
    inst = session.get(DutyInstance, instance_id)
    duty = session.get(Duty, inst.duty_id) if inst else None
    if inst is None or duty is None:
        return ""
    return template.format(title=duty.title, period=fmt.period(inst.period_key))


def office_message(session: Session, ex: Exemption, tz: ZoneInfo = SHANGHAI) -> str:
    person = session.get(Person, ex.person_id)
    unit = session.get(Unit, person.unit_id) if person else None
    return t.EXEMPT_OFFICE.format(
        name=person.name if person else ex.person_id, unit=unit.name if unit else "",
        kind=ex.reason_kind, dates=dates_text(ex, tz), reason=ex.reason,
        item=_item_text(session, ex.instance_id, t.EXEMPT_OFFICE_ITEM), at=fmt.moment(ex.requested_at, tz))


def ask_office(session: Session, ex: Exemption, tz: ZoneInfo = SHANGHAI) -> list[Outbox]:
    """One message with 批准/驳回 to every bound office member; the leader is told it was filed."""
    body = office_message(session, ex, tz)
    buttons = [[outbox.button(t.APPROVE_BUTTON, f"x:ok:{ex.id}"), outbox.button(t.REFUSE_BUTTON, f"x:no:{ex.id}")]]
    sent = []
    for p in _office(session):
        row = outbox.enqueue(session, chat_id=p.telegram_id, payload=outbox.text(body, buttons),
                             dedupe_key=f"exempt:{ex.id}:ask:{p.id}", priority=outbox.INTERACTIVE, person_id=p.id)
        if row is not None:
            sent.append(row)
    leader = session.get(Person, ex.person_id)
    if leader is not None and leader.telegram_id:
        template = t.EXEMPT_SUBMITTED if _office(session) else t.EXEMPT_NO_OFFICE
        outbox.enqueue(session, chat_id=leader.telegram_id,
                       payload=outbox.text(template.format(kind=ex.reason_kind, dates=dates_text(ex, tz))),
                       dedupe_key=f"exempt:{ex.id}:filed", priority=outbox.INTERACTIVE, person_id=leader.id)
    return sent


def _office(session: Session) -> list[Person]:
    return list(session.exec(select(Person).where(Person.is_office.is_(True), Person.retired_at.is_(None),  # type: ignore[attr-defined]
                                                  Person.telegram_id.is_not(None))))  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------------
@dataclass
class Decision:
    exemption: Exemption
    decided_now: bool  # False: somebody decided before (the answer says who)
    excused: list[int] = field(default_factory=list)  # instance ids


def _covers(ex: Exemption, tz: ZoneInfo):
    """The condition for the person's instances an exemption is about: due within its dates, or the
    instance it was asked from."""
    first, last = local_dates(ex, tz)
    lo, hi = _midnight(first, tz), _midnight(last + timedelta(days=1), tz)
    in_dates = (DutyInstance.due_at >= lo) & (DutyInstance.due_at < hi)
    which = or_(in_dates, DutyInstance.id == ex.instance_id) if ex.instance_id is not None else in_dates
    return (DutyInstance.person_id == ex.person_id) & which


def covered_query(ex: Exemption, tz: ZoneInfo = SHANGHAI):
    """The instances an approved exemption excuses (open or missed ones)."""
    return select(DutyInstance).where(
        _covers(ex, tz), DutyInstance.status.in_(("open", "missed")), DutyInstance.done_count < DutyInstance.required)


def _excuse(session: Session, ex: Exemption, now: datetime, tz: ZoneInfo) -> list[DutyInstance]:
    rows = list(session.exec(covered_query(ex, tz).order_by(DutyInstance.due_at)))
    for inst in rows:
        inst.status = "excused"
        inst.closed_at = now
        session.add(inst)
    session.flush()
    return rows


def decide(session: Session, exemption_id: int, approver: Person, approve: bool, now: datetime, *,
           tz: ZoneInfo = SHANGHAI) -> Decision:
    """Approve or refuse a pending request. The first tap wins; later taps learn who decided."""
    ex = session.get(Exemption, exemption_id)
    if ex is None or ex.state in ("draft", "dropped"):
        raise ExemptionError(t.EXEMPT_NOT_FOUND)
    if not approver.is_office:
        raise ExemptionError(t.OFFICE_ONLY)
    state = "approved" if approve else "refused"
    # A conditional update, so two office members tapping at once cannot both decide.
    won = session.execute(
        update(Exemption).where(Exemption.id == exemption_id, Exemption.state == "pending")
        .values(state=state, decided_by=approver.id, decided_at=now)
    ).rowcount == 1
    session.refresh(ex)
    if not won:
        return Decision(ex, False)
    ledger.record(session, "exemption", ex, now)
    excused = _excuse(session, ex, now, tz) if approve else []
    session.add(AuditLog(at=now, actor_telegram_id=approver.telegram_id, person_id=approver.id,
                         action=f"exemption.{state}",
                         detail={"exemption_id": ex.id, "excused": [i.id for i in excused]}))
    _tell(session, ex, approver, excused, tz)
    return Decision(ex, True, [i.id for i in excused])


def _tell(session: Session, ex: Exemption, approver: Person, excused: list[DutyInstance], tz: ZoneInfo) -> None:
    verdict = t.VERDICT[ex.state]
    at = fmt.moment(ex.decided_at, tz)
    leader = session.get(Person, ex.person_id)
    if leader is not None and leader.telegram_id:
        if ex.state == "approved":
            titles = {d.id: d.title for d in session.exec(
                select(Duty).where(Duty.id.in_({i.duty_id for i in excused})))} if excused else {}
            lines = [f"\n· {titles.get(i.duty_id, i.duty_id)}（{fmt.period(i.period_key)}）" for i in excused[:10]]
            if len(excused) > 10:
                lines.append(f"\n· ……共 {len(excused)} 项")
            body = t.EXEMPT_APPROVED.format(kind=ex.reason_kind, dates=dates_text(ex, tz), by=approver.name, at=at,
                                            n=len(excused), items="：" + "".join(lines) if lines else "")
        else:
            body = t.EXEMPT_REFUSED.format(kind=ex.reason_kind, dates=dates_text(ex, tz), by=approver.name, at=at)
        outbox.enqueue(session, chat_id=leader.telegram_id, payload=outbox.text(body),
                       dedupe_key=f"exempt:{ex.id}:result", priority=outbox.INTERACTIVE, person_id=leader.id)
    # The other office members' buttons are closed with the decision, so nobody taps twice.
    closed = office_message(session, ex, tz) + t.EXEMPT_DECIDED_SUFFIX.format(verdict=verdict, by=approver.name, at=at)
    asks = session.exec(select(Outbox).where(Outbox.dedupe_key.like(f"exempt:{ex.id}:ask:%")))  # type: ignore[attr-defined]
    for ask in asks:
        outbox.enqueue(session, chat_id=ask.chat_id, payload=outbox.edit(ask.id, closed, []),
                       dedupe_key=f"exempt:{ex.id}:closed:{ask.person_id}", priority=outbox.INTERACTIVE,
                       person_id=ask.person_id)


def excuse_covered(session: Session, now: datetime, *, tz: ZoneInfo = SHANGHAI) -> list[int]:
    """Excuse instances that opened after their leave was approved. Idempotent; cheap to run daily."""
    recent = now - timedelta(days=MAX_DAYS + 31)
    out: list[int] = []
    for ex in session.exec(select(Exemption).where(Exemption.state == "approved", Exemption.date_to >= recent)):
        out.extend(i.id for i in _excuse(session, ex, now, tz))
    return out


def excuse_if_covered(session: Session, inst: DutyInstance, now: datetime, *, tz: ZoneInfo = SHANGHAI) -> bool:
    """For the code that creates instances: mark a new instance excused when an approved leave covers it."""
    ex = covering(session, inst, tz)
    if ex is None or inst.status not in ("open", "missed") or inst.done_count >= inst.required:
        return False
    inst.status = "excused"
    inst.closed_at = now
    session.add(inst)
    return True


def covering(session: Session, inst: DutyInstance, tz: ZoneInfo = SHANGHAI) -> Exemption | None:
    """The approved exemption that covers an instance (by its id or its due day), if any."""
    due = inst.due_at.astimezone(tz).date()
    for ex in session.exec(select(Exemption).where(Exemption.person_id == inst.person_id,
                                                   Exemption.state == "approved").order_by(Exemption.decided_at)):
        first, last = local_dates(ex, tz)
        if ex.instance_id == inst.id or first <= due <= last:
            return ex
    return None


# ---------------------------------------------------------------------------------------------
# Revocation: the office takes an approval back (the leader did not go, the trip was cancelled)
# ---------------------------------------------------------------------------------------------
@dataclass
class Revocation:
    exemption: Exemption
    record: ExemptionRevocation
    restored: list[int] = field(default_factory=list)  # instance ids that count again


def revoke(session: Session, exemption_id: int, by: Person, reason: str, now: datetime, *,
           tz: ZoneInfo = SHANGHAI) -> Revocation:
    """Revoke an approved exemption with a reason. The approval's ledger entry stays as it was (the
    decision was taken); the revocation is an append-only ExemptionRevocation chained as kind
    "revocation", and the exemption's state becomes "revoked" (verify checks the two agree). The
    instances it excused count again: open while their window is open, missed once it closed,
    unless another approved exemption still covers them. Bad input changes nothing."""
    ex = session.get(Exemption, exemption_id)
    if ex is None or ex.state in ("draft", "dropped"):
        raise ExemptionError(t.EXEMPT_NOT_FOUND)
    if not by.is_office:
        raise ExemptionError(t.OFFICE_ONLY)
    reason = (reason or "").strip()
    if not reason:
        raise ExemptionError(t.ERR_REVOKE_REASON)
    if len(reason) > MAX_REASON:
        raise ExemptionError(t.ERR_REASON_LONG.format(n=MAX_REASON))
    # Conditional, like the decision: two office members revoking at once revoke once.
    won = session.execute(
        update(Exemption).where(Exemption.id == exemption_id, Exemption.state == "approved").values(state="revoked")
    ).rowcount == 1
    session.refresh(ex)
    if not won:
        raise ExemptionError(t.EXEMPT_NOT_APPROVED)
    restored = [i.id for i in _restore(session, ex, now, tz)]
    record = ExemptionRevocation(exemption_id=ex.id, reason=reason, revoked_by=by.id, revoked_at=now,
                                 reinstated=restored)
    session.add(record)
    session.flush()
    ledger.record(session, "revocation", record, now)
    session.add(AuditLog(at=now, actor_telegram_id=by.telegram_id, person_id=by.id, action="exemption.revoked",
                         detail={"exemption_id": ex.id, "reason": reason, "restored": restored}))
    leader = session.get(Person, ex.person_id)
    if leader is not None and leader.telegram_id:
        body = t.EXEMPT_REVOKED.format(kind=ex.reason_kind, dates=dates_text(ex, tz), by=by.name,
                                       at=fmt.moment(now, tz), reason=reason, n=len(restored))
        outbox.enqueue(session, chat_id=leader.telegram_id, payload=outbox.text(body),
                       dedupe_key=f"exempt:{ex.id}:revoked", priority=outbox.INTERACTIVE, person_id=leader.id)
    return Revocation(ex, record, restored)


def _restore(session: Session, ex: Exemption, now: datetime, tz: ZoneInfo) -> list[DutyInstance]:
    """The excused instances of a revoked exemption, given back the status they would have had."""
    rows = list(session.exec(select(DutyInstance).where(_covers(ex, tz), DutyInstance.status == "excused")
                             .order_by(DutyInstance.due_at)))
    out = []
    for inst in rows:
        if covering(session, inst, tz) is not None:  # another approved leave still excuses it
            continue
        if inst.done_count >= inst.required and inst.done_at is not None:
            inst.status = "done" if inst.done_at <= inst.due_at else "late"
            inst.closed_at = inst.done_at
        elif inst.closes_at <= now:
            inst.status, inst.closed_at = "missed", now
        else:
            inst.status, inst.closed_at = "open", None
        session.add(inst)
        out.append(inst)
    session.flush()
    return out


@dataclass
class Listed:
    """An exemption with the names a list shows."""

    exemption: Exemption
    name: str
    unit: str
    item: str
    decided_by: str
    revocation: ExemptionRevocation | None
    revoked_by: str


def listing(session: Session, states: tuple[str, ...], *, limit: int = 200, newest_first: bool = False) -> list[Listed]:
    """Exemptions in these states with person, unit, instance and deciders' names (the web console)."""
    order = Exemption.decided_at.desc() if newest_first else Exemption.requested_at  # type: ignore[union-attr]
    rows = list(session.exec(select(Exemption).where(Exemption.state.in_(states))  # type: ignore[attr-defined]
                             .order_by(order, Exemption.id).limit(limit)))
    revocations = revocations_of(session, [r.id for r in rows if r.state == "revoked"])
    ids = {r.person_id for r in rows} | {r.decided_by for r in rows if r.decided_by} | {
        v.revoked_by for v in revocations.values()}
    people = {p.id: p for p in session.exec(select(Person).where(Person.id.in_(ids)))} if ids else {}  # type: ignore[attr-defined]
    units = {u.id: u.name for u in session.exec(select(Unit))}

    def name(pid: str | None) -> str:
        return people[pid].name if pid in people else (pid or "")

    return [Listed(r, name(r.person_id), units.get(people[r.person_id].unit_id, "") if r.person_id in people else "",
                   _item_text(session, r.instance_id, t.EXEMPT_OFFICE_ITEM).strip().removeprefix("事项："),
                   name(r.decided_by), revocations.get(r.id),
                   name(revocations[r.id].revoked_by) if r.id in revocations else "") for r in rows]


def revocations_of(session: Session, exemption_ids: list[int]) -> dict[int, ExemptionRevocation]:
    if not exemption_ids:
        return {}
    return {v.exemption_id: v for v in session.exec(
        select(ExemptionRevocation).where(ExemptionRevocation.exemption_id.in_(exemption_ids)))}  # type: ignore[attr-defined]
