"""The board: the office's one live message about a callout, edited as answers come in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import case, func, update
from sqlmodel import Session, col, select

from bot.services import outbox
from bot.services.callouts import render
from bot.services.callouts.keys import BOARD_PRIORITY, CANCELLED, board_kv, key_range
from bot.services.callouts.lookup import header
from bot.store import kv
from bot.store.models import Callout, CalloutTarget, Outbox, Person

BOARD_EVERY = timedelta(seconds=0.25)  # the board chat takes one message a second: no need to render more


def delivered_first_calls(session: Session, callout_id: int) -> int:
    lo, hi = key_range(callout_id)
    return session.exec(select(func.count()).select_from(Outbox).where(
        Outbox.dedupe_key >= lo, Outbox.dedupe_key < hi, Outbox.state == "sent",
        col(Outbox.dedupe_key).like("%:call1"))).one()


class _Name(NamedTuple):
    name: str


def board_snapshot(session: Session, callout_id: int, delivered: int | None = None,
                   max_names: int = 40) -> tuple[render.BoardData, dict[str, _Name]]:
    """The board's figures from aggregates, plus the first silent targets and the names it shows:
    a few small queries whatever the size of the callout (it is rendered while a thousand
    answers come in)."""
    t = CalloutTarget
    unanswered = t.acked_at.is_(None)  # type: ignore[union-attr]
    total, sent, acked, recalling, escalated, reported, m1, m2, m3, m4 = session.exec(
        select(func.count(), func.count(case((t.calls_made > 0, 1))), func.count(t.acked_at),
               func.count(case(((t.calls_made >= 2) & unanswered & t.escalated_at.is_(None), 1))),  # type: ignore[union-attr]
               func.count(t.escalated_at), func.count(t.report_at), func.max(t.last_called_at),
               func.max(t.acked_at), func.max(t.escalated_at), func.max(t.report_at))
        .where(t.callout_id == callout_id)).one()
    silent = list(session.exec(select(t).where(t.callout_id == callout_id, unanswered).order_by(t.id).limit(max_names)))
    ids = {x.person_id for x in silent} | {p for x in silent for p in x.escalated_to or []}
    names = {pid: _Name(name) for pid, name in session.exec(select(Person.id, Person.name)
                                                              .where(col(Person.id).in_(ids)))} if ids else {}
    moments = [_aware(m) for m in (m1, m2, m3, m4) if m is not None]
    last = max(moments) if moments else None
    data = render.BoardData(
        counts={"total": total, "sent": sent, "acked": acked, "recalling": recalling, "escalated": escalated,
                "reported": reported},
        silent=silent, silent_total=total - acked, last_event=last, delivered=delivered)
    return data, names


def _aware(value: datetime | str) -> datetime:
    """MAX() of a UTC column may come back without the column's type (naive, or a string on
    SQLite): make it an aware UTC datetime again."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def refresh_board(session: Session, callout: Callout, now: datetime) -> bool:
    """Edit the board when what it shows changed. Edits are coalesced: while the latest board edit
    has not been picked up by the sender, it is rewritten in place (the sender claims and reads a
    row in one transaction and only claims `pending` rows, so a rewrite is either seen or refused);
    so at most one edit is in flight and one waiting, whatever the rate of answers."""
    if callout.board_outbox_id is None:
        return False
    state = kv.get(session, board_kv(callout.id)) or {"n": 0, "last": callout.board_outbox_id, "text": None}
    first = session.get(Outbox, callout.board_outbox_id)
    if first is None or first.state in ("failed", CANCELLED):
        return False
    if state.get("at") and now - datetime.fromisoformat(state["at"]) < BOARD_EVERY:
        return False  # rendered a moment ago; the worker comes back within half a second
    data, names = board_snapshot(session, callout.id, delivered_first_calls(session, callout.id))
    text = render.board(callout, header(session, callout), data, names)
    shown = state["text"] if state.get("text") is not None else first.payload.get("text")
    if text == shown:
        return False
    state["at"] = now.isoformat()
    last_id = state.get("last")
    if last_id is not None:
        payload = outbox.text(text) if last_id == first.id else outbox.edit(first.id, text)
        done = session.exec(update(Outbox).where(Outbox.id == last_id, Outbox.state == "pending")  # type: ignore[call-overload]
                            .values(payload=payload).execution_options(synchronize_session=False))
        if done.rowcount:
            kv.put(session, board_kv(callout.id), {**state, "text": text}, now)
            return True
    n = int(state["n"]) + 1
    row = outbox.enqueue(session, chat_id=callout.board_chat_id, payload=outbox.edit(first.id, text),
                         priority=BOARD_PRIORITY, dedupe_key=f"callout:{callout.id}:board:{n}")
    kv.put(session, board_kv(callout.id), {**state, "n": n, "last": row.id if row else last_id, "text": text}, now)
    return row is not None
