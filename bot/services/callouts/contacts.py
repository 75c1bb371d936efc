"""叫应 by phone and SMS: the calls and texts of a callout, and what their receipts say.

A `CalloutContact` row is one voice call or SMS. The timeline queues it (state `queued`) in the
same transaction as the step that decided it; the phone worker (bot/phone/worker.py) claims it
(`placing`, with a lease), asks the provider to call or text, and records `placed` with the
provider's id (CallId / BizId), or `error` when the provider refused or did not answer (5xx,
timeout): the attempt stays in the record and its target is due at once, so the timeline falls
back to its next step instead of waiting for a call that never happened.

The provider then pushes receipts (`apply_receipt`): a voice call ends `acked` (the person pressed
1: 收到 with channel "voice"), `answered` (picked up, no 1), `no_answer`, `busy`, `power_off` or
`unreachable`; an SMS ends `delivered` or `undelivered`. A receipt for an unknown id, or for a
contact already settled (providers push again when unsure), changes nothing.

The SMS carries a 收到 link, `<PUBLIC_URL>/c/<contact id>.<mac>`: the mac is an HMAC of the id
under the bot's link secret, so nothing secret is stored and a guessed link is refused.
Opening it and pressing 收到 acks with channel "sms" (`ack_by_link`).

Dedupe keys: callout:<id>:<target>:<channel>@<step> (a step of the escalation chain, to the
silent person or to the people it names), callout:<id>:<target>:<channel>:escalate:<silent target>
(a notice to someone who already answered), callout:<id>:<target>:sms:released:<answered target>
(the release notice, by SMS to someone without Telegram).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.services.channels import Message
from bot.store.models import CalloutContact, CalloutTarget, Person, row_id_of

VOICE_FINAL = ("acked", "answered", "no_answer", "busy", "power_off", "unreachable", "error", "cancelled")
SMS_FINAL = ("delivered", "undelivered", "error", "cancelled")
OPEN = ("queued", "placing", "placed")
LEASE = timedelta(seconds=30)

# Alibaba Cloud voice status codes (呼叫状态码) → our states. 300000 is the IVR key press.
VOICE_STATUS = {
    "200000": "answered", "200001": "answered", "200008": "answered", "300000": "answered",
    "200002": "busy", "200003": "no_answer", "200005": "unreachable", "200007": "unreachable",
    "200004": "unreachable", "200010": "power_off", "200011": "unreachable",
}


class PhoneChannel:
    """Voice or SMS for a callout target: `send` queues a CalloutContact."""

    def __init__(self, name: str):
        self.name = name

    def reaches(self, person: Person) -> bool:
        return bool(person.phone)

    def send(self, session: Session, message: Message, now: datetime) -> bool:
        if not self.reaches(message.person) or message.callout_id is None or message.target_id is None:
            return False
        row = CalloutContact(dedupe_key=message.dedupe_key, callout_id=message.callout_id, target_id=message.target_id,
                             person_id=message.person.id, channel=self.name, purpose=message.purpose,
                             phone=message.person.phone, params={**message.params, "body": message.text},
                             not_before=now, created_at=now)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:  # queued already (another worker, a repeated step)
            pass
        return True


VOICE = PhoneChannel("voice")
SMS = PhoneChannel("sms")
PHONE_CHANNELS = {"voice": VOICE, "sms": SMS}


def of_target(session: Session, target_id: int) -> list[CalloutContact]:
    return list(session.exec(select(CalloutContact).where(CalloutContact.target_id == target_id)
                             .order_by(CalloutContact.id)))


def counts(session: Session, callout_id: int) -> dict[int, dict[str, int]]:
    """Per target: voice calls and SMS attempted (queued ones included)."""
    out: dict[int, dict[str, int]] = {}
    for tid, channel in session.exec(select(CalloutContact.target_id, CalloutContact.channel)
                                     .where(CalloutContact.callout_id == callout_id,
                                            CalloutContact.state != "cancelled")):
        out.setdefault(tid, {"voice": 0, "sms": 0})[channel] += 1
    return out


def cancel_open(session: Session, target_ids: list[int]) -> None:
    """Calls and texts not placed yet that nobody needs any more (answered, released, lifted)."""
    if target_ids:
        session.exec(update(CalloutContact)  # type: ignore[call-overload]
                     .where(col(CalloutContact.target_id).in_(target_ids), CalloutContact.state == "queued")
                     .values(state="cancelled").execution_options(synchronize_session=False))


# -- the worker's side ------------------------------------------------------------------------
def claim(session: Session, now: datetime, limit: int = 50) -> list[CalloutContact]:
    """Queued contacts that are due, marked `placing` under a lease (a crashed worker's come back)."""
    ready = ((CalloutContact.state == "queued") & (CalloutContact.not_before <= now)) | (
        (CalloutContact.state == "placing") & (CalloutContact.claimed_until < now))  # type: ignore[operator]
    query = select(CalloutContact).where(ready).order_by(CalloutContact.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.exec(query))
    for row in rows:
        row.state, row.claimed_until, row.attempts = "placing", now + LEASE, row.attempts + 1
        session.add(row)
    session.flush()
    return rows


def placed(session: Session, contact_id: int, provider_id: str, now: datetime) -> None:
    row = session.get(CalloutContact, contact_id)
    if row is None or row.state != "placing":
        return
    row.state, row.provider_id, row.placed_at, row.claimed_until = "placed", provider_id, now, None
    session.add(row)


def failed(session: Session, contact_id: int, error: str, now: datetime) -> None:
    """The provider refused or did not answer: keep the attempt, and let the timeline move on now."""
    row = session.get(CalloutContact, contact_id)
    if row is None or row.state != "placing":
        return
    row.state, row.error, row.result_at, row.claimed_until = "error", error[:2000], now, None
    session.add(row)
    _hurry(session, row, now)


def _hurry(session: Session, row: CalloutContact, now: datetime) -> None:
    """A call that never happened: the target's next step need not wait for the redial time."""
    if row.purpose != "call":
        return
    target = session.get(CalloutTarget, row.target_id)
    if target is not None and target.acked_at is None and target.released_at is None and target.next_call_at:
        target.next_call_at = min(target.next_call_at, now)
        session.add(target)


# -- receipts -----------------------------------------------------------------------------------
@dataclass
class ReceiptResult:
    status: str  # acked | updated | unknown | duplicate | bad
    contact: CalloutContact | None = None


def apply_receipt(session: Session, item: dict, now: datetime) -> ReceiptResult:
    """One element of a provider receipt (a voice VoiceReport/VoiceCallReport or an SmsReport)."""
    if not isinstance(item, dict):
        return ReceiptResult("bad")
    if "call_id" in item:
        return _voice_receipt(session, item, now)
    if "biz_id" in item:
        return _sms_receipt(session, item, now)
    return ReceiptResult("bad")


def _find(session: Session, provider_id: object, channel: str) -> CalloutContact | None:
    if not isinstance(provider_id, str) or not provider_id:
        return None
    row = session.exec(select(CalloutContact).where(CalloutContact.provider_id == provider_id)).first()
    return row if row is not None and row.channel == channel else None


def _voice_receipt(session: Session, item: dict, now: datetime) -> ReceiptResult:
    row = _find(session, item.get("call_id"), "voice")
    if row is None:
        return ReceiptResult("unknown")
    if row.state in VOICE_FINAL:
        return ReceiptResult("duplicate", row)
    code = str(item.get("status_code") or "")
    pressed = "1" in str(item.get("dtmf") or "")
    state = "acked" if pressed and row.purpose == "call" else VOICE_STATUS.get(code)
    if state is None:
        return ReceiptResult("updated", row)  # a progress state (ringing…): wait for the end
    row.state, row.status_code, row.result_at = state, code, now
    session.add(row)
    if state == "acked":
        _ack(session, row, "voice", now)
        return ReceiptResult("acked", row)
    return ReceiptResult("updated", row)  # unanswered: the redial waits its time (redial_every)


def _sms_receipt(session: Session, item: dict, now: datetime) -> ReceiptResult:
    row = _find(session, item.get("biz_id"), "sms")
    if row is None:
        return ReceiptResult("unknown")
    if row.state in SMS_FINAL:
        return ReceiptResult("duplicate", row)
    ok = item.get("success") is True or str(item.get("success")).lower() == "true"
    row.state, row.status_code, row.result_at = ("delivered" if ok else "undelivered"), str(item.get("err_code") or ""), now
    session.add(row)
    return ReceiptResult("updated", row)


def _ack(session: Session, row: CalloutContact, channel: str, now: datetime):
    from bot.services.callouts.answers import ack

    return ack(session, row.target_id, row.person_id, now, channel=channel)


# -- the SMS's 收到 link ---------------------------------------------------------------------------
def link_token(contact_id: int, secret: str) -> str:
    mac = hmac.new(secret.encode(), f"callout-contact:{contact_id}".encode(), hashlib.sha256).hexdigest()[:20]
    return f"{contact_id}.{mac}"


def contact_of_link(session: Session, token: str, secret: str) -> CalloutContact | None:
    cid, _, mac = (token or "").partition(".")
    contact_id = row_id_of(cid)
    if contact_id is None or not secret or not hmac.compare_digest(link_token(contact_id, secret), token):
        return None
    row = session.get(CalloutContact, contact_id)
    return row if row is not None and row.channel == "sms" and row.purpose == "call" else None


def ack_by_link(session: Session, token: str, secret: str, now: datetime):
    """收到 from the SMS link; None when the link is not one of ours."""
    row = contact_of_link(session, token, secret)
    if row is None:
        return None
    return _ack(session, row, "sms", now)
