"""Answering 收到: the answer recorded once, then the calls edited and the report form sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.services import ledger, outbox
from bot.services.callouts import render, reports
from bot.services.callouts.keys import CANCELLED, key
from bot.services.callouts.lookup import audit
from bot.store.models import Callout, CalloutTarget, Outbox, Person


@dataclass
class AckResult:
    status: str  # acked | again | not_yours | unknown
    target: CalloutTarget | None = None
    callout: Callout | None = None


def ack(session: Session, target_id: int, person_id: str | None, now: datetime) -> AckResult:
    """Record 收到 once: the first press wins, later presses change nothing.

    Only the answer itself is written here (the handler answers the tap right after): the calls'
    edits to 已收到 and the report form are the worker's next step for this target (next_call_at =
    now), so presses pouring in are not slowed by them and a crash between the two loses nothing."""
    target = session.get(CalloutTarget, target_id)
    if target is None:
        return AckResult("unknown")
    callout = session.get(Callout, target.callout_id)
    if person_id is None or target.person_id != person_id:
        return AckResult("not_yours", target, callout)
    done = session.exec(update(CalloutTarget)  # type: ignore[call-overload]
                        .where(CalloutTarget.id == target_id, CalloutTarget.acked_at.is_(None))  # type: ignore[union-attr]
                        .values(acked_at=now, next_call_at=None if callout.lifted_at else now)
                        .execution_options(synchronize_session=False))
    if done.rowcount == 0:
        session.refresh(target)
        return AckResult("again", target, callout)
    session.refresh(target)
    ledger.record(session, "ack", target, now)
    if callout.lifted_at is not None:  # the worker no longer looks at a lifted callout: do it now
        follow_up(session, callout, target, session.get(Person, target.person_id), now)
    audit(session, "callout.ack", person_id, {"callout": callout.id, "target": target.id}, now)
    return AckResult("acked", target, callout)


def follow_up(session: Session, callout: Callout, target: CalloutTarget, person: Person, now: datetime,
              h: dict | None = None, batch: list[Outbox] | None = None) -> None:
    """After 收到: queued calls are dropped, the ones out are edited to 已收到 HH:MM (their button
    removed), and the report form is sent (while the warning is active)."""
    keys = [key(callout.id, target.id, f"call{n}") for n in range(1, target.calls_made + 1)]
    if keys:  # not out yet: nobody needs them any more (a row the sender claims meanwhile goes out)
        session.exec(update(Outbox).where(col(Outbox.dedupe_key).in_(keys), Outbox.state == "pending")  # type: ignore[call-overload]
                     .values(state=CANCELLED).execution_options(synchronize_session=False))
    rows = {r.dedupe_key: r for r in session.exec(select(Outbox).where(col(Outbox.dedupe_key).in_(keys))
                                                  .execution_options(populate_existing=True))} if keys else {}
    for n, k in enumerate(keys, start=1):
        row = rows.get(k)
        if row is not None and row.state in ("sent", "sending"):
            edit = Outbox(chat_id=row.chat_id, priority=outbox.CALLOUT, person_id=person.id, created_at=now,
                          not_before=now, dedupe_key=key(callout.id, target.id, f"ack{n}"),
                          payload=outbox.edit(row.id, render.acked_text(row.payload.get("text", ""),
                                                                                target.acked_at or now), []))
            if batch is not None:
                batch.append(edit)
            else:
                outbox.enqueue(session, chat_id=edit.chat_id, payload=edit.payload, dedupe_key=edit.dedupe_key,
                               priority=edit.priority, person_id=edit.person_id)
    if callout.lifted_at is None and person.telegram_id is not None:
        reports.open_form(session, callout, target, person, now, h=h, batch=batch)
