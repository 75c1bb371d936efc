"""Answering 收到: the answer recorded once, then the calls edited and the report form sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.services import channels, ledger, outbox
from bot.services.callouts import contacts, render, reports
from bot.services.callouts.keys import CANCELLED, key
from bot.services.callouts.lookup import audit
from bot.services.channels import Message
from bot.store.models import Callout, CalloutTarget, Outbox, Person
from bot.texts import callouts as T


@dataclass
class AckResult:
    status: str  # acked | again | not_yours | unknown
    target: CalloutTarget | None = None
    callout: Callout | None = None


def ack(session: Session, target_id: int, person_id: str | None, now: datetime,
        channel: str = "telegram") -> AckResult:
    """Record 收到 once, with the channel it came by: the first answer wins, later ones change nothing.
    Escalation targets still being called about this person are released at once (`release`).

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
                        .values(acked_at=now, acked_channel=channel, next_call_at=None if callout.lifted_at else now)
                        .execution_options(synchronize_session=False))
    if done.rowcount == 0:
        session.refresh(target)
        return AckResult("again", target, callout)
    session.refresh(target)
    ledger.record(session, "ack", target, now)
    contacts.cancel_open(session, [target.id])
    release(session, callout, target, now)
    if callout.lifted_at is not None:  # the worker no longer looks at a lifted callout: do it now
        follow_up(session, callout, target, session.get(Person, target.person_id), now)
    audit(session, "callout.ack", person_id, {"callout": callout.id, "target": target.id, "channel": channel}, now)
    return AckResult("acked", target, callout)


def release(session: Session, callout: Callout, answered: CalloutTarget, now: datetime) -> list[CalloutTarget]:
    """`answered` is awake: every escalation target still being called about them (down the whole
    chain their silence started) stops being called and gets one notice "XX 已于 HH:MM 应答"."""
    from bot.texts import fmt

    rows = list(session.exec(select(CalloutTarget).where(CalloutTarget.callout_id == callout.id,
                                                         CalloutTarget.escalated_from_id.is_not(None))))  # type: ignore[union-attr]
    children: dict[int, list[CalloutTarget]] = {}
    for t in rows:
        children.setdefault(t.escalated_from_id, []).append(t)
    found, todo = [], list(children.get(answered.id, []))
    while todo:
        t = todo.pop()
        found.append(t)
        todo.extend(children.get(t.id, []))
    released = [t for t in found if t.acked_at is None and t.released_at is None]
    if not released:
        return []
    person = session.get(Person, answered.person_id)
    ids = [t.id for t in released]
    keys = [key(callout.id, t.id, f"call{n}") for t in released for n in range(1, t.calls_made + 1)]
    if keys:
        session.exec(update(Outbox).where(col(Outbox.dedupe_key).in_(keys), Outbox.state == "pending")  # type: ignore[call-overload]
                     .values(state=CANCELLED).execution_options(synchronize_session=False))
    contacts.cancel_open(session, ids)
    text = T.RELEASED.format(name=person.name if person else answered.person_id, clock=fmt.clock(now),
                             channel=T.CHANNEL_NAMES.get(answered.acked_channel or "telegram", ""))
    for t in released:
        t.released_at, t.next_call_at = now, None
        session.add(t)
        who = session.get(Person, t.person_id)
        if who is None:
            continue
        message = Message(person=who, text=text, dedupe_key=key(callout.id, t.id, f"released:{answered.id}"),
                          callout_id=callout.id, target_id=t.id, purpose="notice",
                          params={"name": person.name if person else "", "clock": fmt.clock(now)})
        if not channels.TELEGRAM.send(session, message, now):  # no Telegram: the notice goes by SMS
            message.dedupe_key = key(callout.id, t.id, f"sms:released:{answered.id}")
            contacts.SMS.send(session, message, now)
    audit(session, "callout.release", answered.person_id, {"callout": callout.id, "answered": answered.id,
                                                            "released": ids}, now)
    return released


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
