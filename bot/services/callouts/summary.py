"""The 叫应总结: after 解除, the issuer owes a summary within the policy's `summary_within`.

    due_at = lifted_at + summary_within
    state  = due (before the deadline) | overdue (past it, none yet) | done (in time) | late

At the deadline the issuer and the office (the board's chat, or every office member when there
is no board) are reminded once (`remind_due`, run by the timeline's tick; summary_reminded_at
makes it once). `record` keeps the summary on the callout and chains it in the ledger (kind
"summary"), so it is part of the record, the export and `dutybot verify`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.services import ledger, outbox
from bot.services.callouts.lookup import audit, get, header
from bot.services.callouts.policy import CalloutError
from bot.store.models import Callout, Person
from bot.texts import callouts as T

MAX_SUMMARY = 8000
LOOK_BACK = timedelta(days=30)  # a summary not reminded within a month after lifting is history


def due_at(callout: Callout) -> datetime | None:
    if callout.lifted_at is None:
        return None
    return callout.lifted_at + timedelta(seconds=(callout.policy or {}).get("summary_within", 1800))


def state(callout: Callout, now: datetime) -> str | None:
    due = due_at(callout)
    if due is None:
        return None
    if callout.summary_at is not None:
        return "done" if callout.summary_at <= due else "late"
    return "due" if now < due else "overdue"


def record(session: Session, callout_id: int, text: str, *, by: str | None, now: datetime) -> Callout:
    from bot.texts import fmt

    callout = get(session, callout_id)
    if callout.lifted_at is None:
        raise CalloutError(T.ERR_SUMMARY_NOT_LIFTED.format(cid=callout_id))
    if callout.summary_at is not None:
        raise CalloutError(T.ERR_SUMMARY_DONE.format(cid=callout_id, clock=fmt.moment(callout.summary_at)))
    text = (text or "").strip()
    if not text:
        raise CalloutError(T.ERR_SUMMARY_EMPTY)
    callout.summary_at, callout.summary_by, callout.summary_text = now, by, text[:MAX_SUMMARY]
    session.add(callout)
    session.flush()
    ledger.record(session, "summary", callout, now)
    audit(session, "callout.summary", by, {"callout": callout.id, "late": state(callout, now) == "late"}, now)
    return callout


def remind_due(session: Session, now: datetime) -> int:
    """Remind the issuer and the office of every summary whose deadline has come; returns how many."""
    from bot.services.callouts.lifting import summary_chats
    from bot.texts import fmt

    rows = session.exec(select(Callout).where(Callout.lifted_at.is_not(None), Callout.lifted_at > now - LOOK_BACK,  # type: ignore[union-attr,operator]
                                              Callout.summary_at.is_(None), Callout.summary_reminded_at.is_(None)))  # type: ignore[union-attr]
    count = 0
    for callout in rows:
        due = due_at(callout)
        if due is None or due > now:
            continue
        callout.summary_reminded_at = now
        session.add(callout)
        h = header(session, callout)
        within = fmt_duration((callout.policy or {}).get("summary_within", 1800))
        body = T.SUMMARY_REMIND.format(due=fmt.moment(due), within=within, **{k: v for k, v in h.items() if k != "text"})
        chats = list(summary_chats(session, callout))
        issuer = session.get(Person, callout.issued_by) if callout.issued_by else None
        if issuer is not None and issuer.telegram_id is not None and issuer.telegram_id not in chats:
            chats.insert(0, issuer.telegram_id)
        for chat in chats:
            outbox.enqueue(session, chat_id=chat, payload=outbox.text(body), priority=outbox.INTERACTIVE,
                           dedupe_key=f"callout:{callout.id}:summary-due:{chat}")
        count += 1
    return count


def fmt_duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes >= 60 and minutes % 60 == 0:
        return f"{minutes // 60}小时"
    return f"{minutes}分钟" if minutes else f"{int(seconds)}秒"
