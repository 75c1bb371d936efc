"""Issuing a warning: who it calls, the first calls in bulk, its board, its attachment."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlmodel import Session

from bot.services import outbox
from bot.services.callouts import reach, render
from bot.services.callouts.attachments import attachment_payload
from bot.services.callouts.board import board_snapshot
from bot.services.callouts.keys import BOARD_PRIORITY, board_kv, key
from bot.services.callouts.lookup import audit, chunks, header
from bot.services.callouts.policy import MAX_TEXT, CalloutError, parse_level, policy_snapshot
from bot.services.callouts.timeline import Stepper
from bot.store import kv
from bot.store.models import Callout, CalloutTarget, Outbox, Person
from bot.texts import callouts as T
from schedules.catalog import Catalog, Level

log = logging.getLogger(__name__)

def preview(session: Session, catalog: Catalog, level: str, units: Sequence[str], now: datetime) -> list[Person]:
    """Who a warning of this level for these units would call (the /warn confirmation shows it)."""
    level = parse_level(level)
    policy = catalog.callouts.get(Level(level))
    if policy is None:
        raise CalloutError(T.ERR_NO_POLICY.format(level=level))
    order = {p.id: i for i, p in enumerate(catalog.people)}
    return reach.recipients(session, policy_snapshot(policy)["who"], units, now, order)


def issue(session: Session, catalog: Catalog, *, level: str, text: str, now: datetime,
          units: Sequence[str] = (), hazard: str = "", issued_by: str | None = None,
          attachment: dict | None = None, board_chat_id: int | None = None) -> Callout:
    """Record a warning, call every recipient (first calls queued in this transaction) and open the
    board in `board_chat_id`. Units are ids or names; none means park-wide."""
    level = parse_level(level)
    policy = catalog.callouts.get(Level(level))
    if policy is None:
        raise CalloutError(T.ERR_NO_POLICY.format(level=level))
    text = (text or "").strip()
    if not text:
        raise CalloutError(T.ERR_TEXT)
    text = text[:MAX_TEXT]
    unit_ids = []
    for u in units:
        if u.strip() in ("", T.ALL_UNITS):
            continue
        uid = reach.resolve_unit(session, u)
        if uid is None:
            raise CalloutError(T.ERR_UNIT.format(value=u))
        if uid not in unit_ids:
            unit_ids.append(uid)
    snapshot = policy_snapshot(policy)
    order = {p.id: i for i, p in enumerate(catalog.people)}
    people = reach.recipients(session, snapshot["who"], unit_ids, now, order)
    if not people:
        raise CalloutError(T.ERR_NO_RECIPIENTS)

    callout = Callout(level=level, hazard=hazard.strip(), text=text, units=unit_ids, policy=snapshot,
                      issued_by=issued_by, issued_at=now, attachment=attachment, board_chat_id=board_chat_id)
    session.add(callout)
    session.flush()
    h = header(session, callout)
    ids = _first_calls(session, callout, people, h, now)
    audit(session, "callout.issue", issued_by, {"callout": callout.id, "level": level, "units": unit_ids,
                                                  "recipients": len(ids)}, now)
    step = Stepper(session, callout, now, h)
    step.people.update({p.id: p for p in people})
    for p in people:
        if p.telegram_id is None:  # cannot be called: the chain must reach them another way, now
            step.advance(session.get(CalloutTarget, ids[p.id]))
    step.flush()
    session.flush()
    if board_chat_id is not None:
        data, names = board_snapshot(session, callout.id)
        row = outbox.enqueue(session, chat_id=board_chat_id, dedupe_key=f"callout:{callout.id}:board:0",
                             payload=outbox.text(render.board(callout, h, data, names)),
                             priority=BOARD_PRIORITY)
        callout.board_outbox_id = row.id if row else None
        kv.put(session, board_kv(callout.id), {"n": 0, "last": callout.board_outbox_id, "text": None}, now)
    return callout


def _first_calls(session: Session, callout: Callout, people: Sequence[Person], h: dict, now: datetime) -> dict[str, int]:
    """Insert the recipients with their first call placed, and the calls, in bulk (a broadcast to a
    thousand people should not spend seconds building ORM objects before anyone is called)."""
    wait = timedelta(seconds=callout.policy["ack_within"])
    rows = []
    for p in people:
        called = p.telegram_id is not None
        rows.append({"callout_id": callout.id, "person_id": p.id, "reason": "policy", "escalated_from_id": None,
                     "calls_made": 1 if called else 0, "first_sent_at": now if called else None,
                     "last_called_at": now if called else None, "next_call_at": now + wait if called else now,
                     "acked_at": None, "escalated_at": None, "escalated_to": [], "report_at": None,
                     "report_measures": [], "report_text": ""})
    ids: dict[str, int] = {}
    statement = insert(CalloutTarget).returning(CalloutTarget.id, CalloutTarget.person_id, sort_by_parameter_order=True)
    for chunk in chunks(rows):
        ids.update({pid: tid for tid, pid in session.execute(statement, chunk)})
    body = render.call_text(h, 1, None)
    messages = []
    for p in people:
        if p.telegram_id is None:
            continue
        tid = ids[p.id]
        common = {"chat_id": p.telegram_id, "person_id": p.id, "priority": outbox.CALLOUT, "created_at": now,
                  "not_before": now, "state": "pending", "attempts": 0}
        messages.append({**common, "dedupe_key": key(callout.id, tid, "call1"),
                         "payload": outbox.text(body, [[outbox.button(T.ACK_BUTTON, f"c:ack:{tid}")]])})
        if callout.attachment:
            messages.append({**common, "dedupe_key": key(callout.id, tid, "file"),
                             "payload": attachment_payload(callout.attachment)})
    for chunk in chunks(messages):
        session.execute(insert(Outbox), chunk)
    # The sender's commit hook (bot/telegram/sender.py) only sees ORM-added rows; this flag is what
    # it sets for them, so an in-process sender starts on these at commit instead of at its next poll.
    session.info["outbox_added"] = True
    return ids
