"""解除: ending a warning, and who gets the closing summary."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.services import outbox
from bot.services.callouts import render
from bot.services.callouts.board import refresh_board
from bot.services.callouts.keys import CANCELLED, key
from bot.services.callouts.lookup import audit, get, header, people_of, targets_of
from bot.services.callouts.policy import CalloutError
from bot.store.models import Callout, Outbox, Person
from bot.texts import callouts as T


def lift(session: Session, callout_id: int, *, now: datetime, lifted_by: str | None = None) -> Callout:
    """End a warning: 解除 to every target, queued calls dropped, the office gets the summary."""
    from bot.texts import fmt

    callout = get(session, callout_id)
    if callout.lifted_at is not None:
        raise CalloutError(T.ERR_LIFTED.format(cid=callout_id, clock=fmt.moment(callout.lifted_at)))
    callout.lifted_at, callout.lifted_by = now, lifted_by
    targets = targets_of(session, callout.id)
    people = people_of(session, targets)
    h = header(session, callout)
    keys = [key(callout.id, t.id, f"call{n}") for t in targets for n in range(1, t.calls_made + 1)]
    for chunk in range(0, len(keys), 500):
        session.exec(update(Outbox).where(col(Outbox.dedupe_key).in_(keys[chunk:chunk + 500]),  # type: ignore[call-overload]
                                          Outbox.state == "pending").values(state=CANCELLED)
                     .execution_options(synchronize_session=False))
    for t in targets:
        t.next_call_at = None
        person = people.get(t.person_id)
        if person is None or person.telegram_id is None or t.calls_made == 0:
            continue
        extra = T.LIFT_EXTRA_REPORT if t.acked_at is not None and t.report_at is None else ""
        body = T.LIFT.format(clock=fmt.clock(now), extra=extra, **h).rstrip()
        outbox.enqueue(session, chat_id=person.telegram_id, payload=outbox.text(body), priority=outbox.CALLOUT,
                       dedupe_key=key(callout.id, t.id, "lift"), person_id=person.id)
    for chat_id in summary_chats(session, callout):
        for i, body in enumerate(render.summary(callout, h, targets, people)):
            outbox.enqueue(session, chat_id=chat_id, payload=outbox.text(body), priority=outbox.INTERACTIVE,
                           dedupe_key=f"callout:{callout.id}:summary:{chat_id}:{i}")
    audit(session, "callout.lift", lifted_by, {"callout": callout.id}, now)
    session.flush()
    refresh_board(session, callout, now)
    return callout


def summary_chats(session: Session, callout: Callout) -> list[int]:
    """Who gets the closing summary: the board's chat, or the office when there is no board."""
    if callout.board_chat_id is not None:
        return [callout.board_chat_id]
    return [p.telegram_id for p in session.exec(select(Person).where(Person.is_office.is_(True),  # type: ignore[attr-defined]
                                                                      Person.retired_at.is_(None)))  # type: ignore[union-attr]
            if p.telegram_id is not None]
