"""Reading a 叫应 back from the store: the callout, its targets and people, its header."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from bot.services.callouts import render
from bot.services.callouts.policy import CalloutError
from bot.store.models import AuditLog, Callout, CalloutTarget, Person, Unit
from bot.texts import callouts as T


def active(session: Session) -> list[Callout]:
    return list(session.exec(select(Callout).where(Callout.lifted_at.is_(None)).order_by(Callout.id)))  # type: ignore[union-attr]


def get(session: Session, callout_id: int) -> Callout:
    callout = session.get(Callout, callout_id)
    if callout is None:
        raise CalloutError(T.ERR_NOT_FOUND.format(cid=callout_id))
    return callout


def unit_names(session: Session, units: Sequence[str]) -> list[str]:
    out = []
    for uid in units:
        row = session.get(Unit, uid)
        out.append(row.name if row else uid)
    return out


def header(session: Session, callout: Callout) -> dict:
    issuer = session.get(Person, callout.issued_by) if callout.issued_by else None
    return render.header(callout, issuer, unit_names(session, callout.units))


def targets_of(session: Session, callout_id: int) -> list[CalloutTarget]:
    return list(session.exec(select(CalloutTarget).where(CalloutTarget.callout_id == callout_id)
                             .order_by(CalloutTarget.id)))


def people_of(session: Session, targets: Iterable[CalloutTarget]) -> dict[str, Person]:
    ids = {t.person_id for t in targets}
    if not ids:
        return {}
    return {p.id: p for p in session.exec(select(Person).where(col(Person.id).in_(ids)))}


def audit(session: Session, action: str, person_id: str | None, detail: dict, now: datetime) -> None:
    session.add(AuditLog(at=now, person_id=person_id, action=action, detail=detail))


def chunks(items: Sequence, size: int = 500):
    """Slices of at most `size` (IN lists and bulk inserts stay well under both databases' limits)."""
    for i in range(0, len(items), size):
        yield items[i:i + size]
