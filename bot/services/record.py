"""One person's 履职档案 as the web console shows it: every instance of a year with its status and
check-ins (text, time, evidence files; withdrawn or moved ones marked), exemptions, 叫应 answers
and reports, and the files the person sent that no check-in took (未归档佐证). Evidence is
found by id and served only to its owner and the office (`evidence_owner`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.services.checkins import UnfiledFile, unfiled_files
from bot.services.status import Progress
from bot.store.models import (
    Callout,
    CalloutTarget,
    CheckIn,
    CheckInCorrection,
    Duty,
    DutyInstance,
    Evidence,
    Exemption,
    Person,
    Unit,
)


@dataclass
class CheckInView:
    checkin: CheckIn
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class InstanceView:
    instance: DutyInstance
    title: str
    kind: str
    checkins: list[CheckInView] = field(default_factory=list)


@dataclass
class CalloutView:
    callout: Callout
    target: CalloutTarget
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Record:
    person: Person
    unit: str
    year: int
    instances: list[InstanceView]
    progress: Progress
    exemptions: list[Exemption]
    callouts: list[CalloutView]
    years: list[int]
    unfiled: list[UnfiledFile] = field(default_factory=list)  # 未归档佐证: sent, never filed
    corrected: dict[int, str] = field(default_factory=dict)  # check-in id -> withdraw | move


def is_image(ev: Evidence) -> bool:
    return ev.mime.startswith("image/") or (not ev.mime and ev.width is not None)


def record(session: Session, person_id: str, year: int, tz: ZoneInfo) -> Record | None:
    person = session.get(Person, person_id)
    if person is None:
        return None
    unit = session.get(Unit, person.unit_id)
    start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    rows = session.exec(
        select(DutyInstance, Duty.title, Duty.kind)
        .join(Duty, Duty.id == DutyInstance.duty_id, isouter=True)
        .where(DutyInstance.person_id == person_id, DutyInstance.due_at >= start, DutyInstance.due_at < end)
        .order_by(DutyInstance.due_at.desc(), DutyInstance.duty_id)  # type: ignore[attr-defined]
    ).all()
    views = {inst.id: InstanceView(inst, title or inst.duty_id, kind or "other") for inst, title, kind in rows}
    progress = Progress()
    for v in views.values():
        progress.add(v.instance.status)
    checkins = session.exec(select(CheckIn).where(CheckIn.person_id == person_id,
                                                  CheckIn.instance_id.in_(list(views)))  # type: ignore[union-attr]
                            .order_by(CheckIn.at)).all() if views else []
    files = _evidence(session, Evidence.checkin_id, [c.id for c in checkins])
    for c in checkins:
        views[c.instance_id].checkins.append(CheckInView(c, files.get(c.id, [])))
    exemptions = session.exec(select(Exemption).where(Exemption.person_id == person_id)
                              .order_by(Exemption.requested_at.desc())).all()  # type: ignore[attr-defined]
    answers = session.exec(select(Callout, CalloutTarget).join(CalloutTarget, CalloutTarget.callout_id == Callout.id)
                           .where(CalloutTarget.person_id == person_id, Callout.issued_at >= start,
                                  Callout.issued_at < end).order_by(Callout.issued_at.desc())).all()  # type: ignore[attr-defined]
    report_files = _evidence(session, Evidence.callout_target_id, [t.id for _, t in answers])
    years = _years(session, person_id, tz, year)
    unfiled = [f for f in unfiled_files(session, datetime.now(UTC), person_id, min_age=timedelta(0))
               if start <= f.at < end]
    corrected = {c.checkin_id: c.action for c in session.exec(select(CheckInCorrection).where(
        CheckInCorrection.checkin_id.in_([c.id for c in checkins])))} if checkins else {}  # type: ignore[attr-defined]
    return Record(person, unit.name if unit else person.unit_id, year, list(views.values()), progress,
                  list(exemptions), [CalloutView(c, t, report_files.get(t.id, [])) for c, t in answers], years,
                  unfiled, corrected)


def _years(session: Session, person_id: str, tz: ZoneInfo, year: int) -> list[int]:
    from sqlalchemy import func

    first, last = session.exec(select(func.min(DutyInstance.due_at), func.max(DutyInstance.due_at))
                               .where(DutyInstance.person_id == person_id)).one()
    if first is None:
        return [year]
    return list(range(max(last.astimezone(tz).year, year), min(first.astimezone(tz).year, year) - 1, -1))


def _evidence(session: Session, column, ids: list[int]) -> dict[int, list[Evidence]]:
    out: dict[int, list[Evidence]] = defaultdict(list)
    if ids:
        for ev in session.exec(select(Evidence).where(column.in_(ids)).order_by(Evidence.id)):
            out[getattr(ev, column.key)].append(ev)
    return out


def evidence_owner(session: Session, evidence_id: int) -> tuple[Evidence, str | None] | None:
    """The evidence row and the person it belongs to (a check-in's or a 叫应 report's author)."""
    ev = session.get(Evidence, evidence_id)
    if ev is None:
        return None
    owner = None
    if ev.checkin_id is not None:
        checkin = session.get(CheckIn, ev.checkin_id)
        owner = checkin.person_id if checkin else None
    elif ev.callout_target_id is not None:
        target = session.get(CalloutTarget, ev.callout_target_id)
        owner = target.person_id if target else None
    return ev, owner
