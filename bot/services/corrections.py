"""Putting a wrong filing right without editing history: 撤回 (withdraw) and 改为其他职责 (move).

A check-in is append-only and chained (bot/services/ledger.py); it is never edited or deleted. A
correction is a new record, `CheckInCorrection`, chained as kind "correction":
- withdraw: the check-in no longer counts. Its instance's count goes down by one, and an instance
  that was done (or late) because of it is open again — or missed, if its window closed meanwhile.
- move: the same, plus a NEW check-in on the chosen instance (same text, same files — they are
  stored already, so the new check-in's evidence only links them), dated when the original was
  sent if the chosen duty accepted it then, else now. The correction names the new check-in.
Only the leader who reported may correct, only within CORRECT_WITHIN of the check-in, once per
check-in (a moved check-in's new check-in may be corrected in its turn). The export shows both the
original and the correction (明细 marks it, 更正记录 lists them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.services import checkins, ledger, outbox
from bot.store.models import CheckIn, CheckInCorrection, DutyInstance, Person
from bot.texts import checkins as T
from bot.texts import fmt

CORRECT_WITHIN = timedelta(hours=24)


@dataclass
class Result:
    ok: bool
    toast: str
    correction: CheckInCorrection | None = None
    new_checkin: CheckIn | None = None


def correction_of(session: Session, checkin_id: int) -> CheckInCorrection | None:
    return session.exec(select(CheckInCorrection).where(CheckInCorrection.checkin_id == checkin_id)).first()


def _correctable(session: Session, person: Person, checkin_id: int, now: datetime) -> tuple[CheckIn | None, str]:
    checkin = session.get(CheckIn, checkin_id)
    if checkin is None or checkin.instance_id is None:
        return None, T.UNKNOWN_TOAST
    if checkin.person_id != person.id:
        return None, T.NOT_YOURS_TOAST
    if correction_of(session, checkin.id) is not None:
        return None, T.CORRECTED_ALREADY
    if now - checkin.at > CORRECT_WITHIN:
        return None, T.CORRECT_TOO_LATE
    return checkin, ""


def _uncount(session: Session, instance_id: int, now: datetime) -> DutyInstance | None:
    """The instance without this check-in: one fewer, open again (or missed once closed)."""
    inst = session.exec(select(DutyInstance).where(DutyInstance.id == instance_id).with_for_update()
                        .execution_options(populate_existing=True)).first()
    if inst is None:
        return None
    inst.done_count = max(inst.done_count - 1, 0)
    if inst.status in ("done", "late") and inst.done_count < inst.required:
        inst.done_at = None
        if now < inst.closes_at:
            inst.status = "open"
        else:
            inst.status, inst.closed_at = "missed", now
    return inst


def _append(session: Session, row: CheckInCorrection, now: datetime) -> CheckInCorrection:
    session.add(row)
    session.flush()
    ledger.record(session, "correction", row, now)
    return row


def withdraw(session: Session, person: Person, checkin_id: int, now: datetime,
             tz: ZoneInfo = fmt.SHANGHAI) -> Result:
    checkin, refusal = _correctable(session, person, checkin_id, now)
    if checkin is None:
        return Result(False, refusal)
    inst = _uncount(session, checkin.instance_id, now)
    row = _append(session, CheckInCorrection(checkin_id=checkin.id, person_id=person.id, action="withdraw", at=now),
                  now)
    names = checkins.instance_names(session, inst) if inst else {"title": "", "period": ""}
    state = T.STATUS_NAMES.get(inst.status, inst.status) if inst else ""
    _tell(session, person, f"correction:{row.id}", T.WITHDRAWN.format(**names, status=state,
                                                                        done=inst.done_count if inst else 0,
                                                                        required=inst.required if inst else 0))
    return Result(True, T.WITHDRAWN_TOAST, row)


def move(session: Session, person: Person, checkin_id: int, to_instance_id: int, now: datetime,
         tz: ZoneInfo = fmt.SHANGHAI) -> Result:
    checkin, refusal = _correctable(session, person, checkin_id, now)
    if checkin is None:
        return Result(False, refusal)
    target = session.get(DutyInstance, to_instance_id)
    if target is None or target.person_id != person.id:
        return Result(False, T.UNKNOWN_TOAST)
    if target.id == checkin.instance_id:
        return Result(False, T.MOVE_SAME)
    if not checkins.accepting(target, now):
        return Result(False, T.NOT_OPEN_TOAST)
    old = _uncount(session, checkin.instance_id, now)
    at = checkin.at if checkins.accepting(target, checkin.at) else now
    done = checkins.record(session, instance=target, person_id=person.id, chat_id=person.telegram_id or 0,
                           text=checkin.text, attachments=list(checkin.attachments or []), at=at, update_id=None,
                           media_group_id=checkin.media_group_id, tz=tz,
                           note=T.MOVED.format(old=checkins.instance_names(session, old)["title"] if old else ""))
    if done is None:  # closed in the meantime; nothing changed (the transaction is the caller's)
        raise RuntimeError("target stopped accepting check-ins")
    row = _append(session, CheckInCorrection(checkin_id=checkin.id, person_id=person.id, action="move",
                                             to_instance_id=target.id, new_checkin_id=done.checkin.id, at=now), now)
    return Result(True, T.MOVED_TOAST, row, done.checkin)


def move_choices(session: Session, person: Person, checkin_id: int, now: datetime) -> tuple[str, outbox.Buttons]:
    """改为其他职责: the other duties that accept a check-in now, one button each."""
    checkin, refusal = _correctable(session, person, checkin_id, now)
    if checkin is None:
        return refusal, []
    others = [i for i in checkins.open_instances(session, person.id, now) if i.id != checkin.instance_id]
    if not others:
        return T.MOVE_NONE, []
    buttons = [[outbox.button(T.BTN_PICK.format(**checkins.short_names(session, inst)),
                              f"r:mv:{checkin.id}:{inst.id}")] for inst in others[:checkins.MAX_PICK_BUTTONS]]
    return T.MOVE_WHICH, buttons


def ask_move(session: Session, person: Person, chat_id: int, checkin_id: int, tap_id: str, now: datetime) -> str:
    body, buttons = move_choices(session, person, checkin_id, now)
    if not buttons:
        return body
    outbox.enqueue(session, chat_id=chat_id, payload=outbox.text(body, buttons), dedupe_key=f"move:{tap_id}",
                   priority=outbox.INTERACTIVE, person_id=person.id)
    return T.MOVE_ASKED_TOAST


def ask_withdraw(session: Session, person: Person, chat_id: int, checkin_id: int, tap_id: str,
                 now: datetime) -> str:
    """撤回 asks once more: a withdrawal cannot be undone."""
    checkin, refusal = _correctable(session, person, checkin_id, now)
    if checkin is None:
        return refusal
    inst = session.get(DutyInstance, checkin.instance_id)
    body = T.WITHDRAW_SURE.format(**checkins.instance_names(session, inst), at=fmt.moment(checkin.at))
    buttons = [[outbox.button(T.BTN_WITHDRAW_SURE, f"r:undone:{checkin.id}")]]
    outbox.enqueue(session, chat_id=chat_id, payload=outbox.text(body, buttons), dedupe_key=f"undo:{tap_id}",
                   priority=outbox.INTERACTIVE, person_id=person.id)
    return T.WITHDRAW_ASKED_TOAST


def _tell(session: Session, person: Person, key: str, body: str) -> None:
    if person.telegram_id:
        outbox.enqueue(session, chat_id=person.telegram_id, payload=outbox.text(body), dedupe_key=key,
                       priority=outbox.INTERACTIVE, person_id=person.id)


def corrected(session: Session, checkin_ids: list[int]) -> dict[int, CheckInCorrection]:
    """The corrections of these check-ins (for history views and the export)."""
    if not checkin_ids:
        return {}
    rows = session.exec(select(CheckInCorrection).where(CheckInCorrection.checkin_id.in_(checkin_ids)))  # type: ignore[attr-defined]
    return {r.checkin_id: r for r in rows}
