"""Invites: single-use deep-link tokens that bind a Telegram user to a person of the catalogue.

Only the SHA-256 of a token is stored, so a database dump cannot be used to bind an account.
A token is valid for 7 days and once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, select

from bot.store.models import AuditLog, Invite, Person

VALIDITY = timedelta(days=7)


class Outcome(StrEnum):
    BOUND = "bound"
    ALREADY_BOUND = "already_bound"  # this user is already this person
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    OTHER_PERSON = "other_person"  # this Telegram user is bound to somebody else
    RETIRED = "retired"


@dataclass
class Redemption:
    outcome: Outcome
    person: Person | None = None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start={token}"


def create(session: Session, person_id: str, now: datetime) -> str:
    """A fresh token for this person (older unused invites stay valid until they expire)."""
    if session.get(Person, person_id) is None:
        raise KeyError(person_id)
    # 32 url-safe characters: fits Telegram's 64-character start parameter ([A-Za-z0-9_-]).
    token = secrets.token_urlsafe(24)
    session.add(Invite(person_id=person_id, token_hash=token_hash(token), created_at=now,
                       expires_at=now + VALIDITY))
    session.add(AuditLog(at=now, person_id=person_id, action="invite_created", detail={}))
    session.flush()
    return token


def redeem(session: Session, token: str, telegram_id: int, now: datetime) -> Redemption:
    """Bind `telegram_id` to the invite's person. Changes nothing unless the outcome is BOUND."""
    invite = session.exec(select(Invite).where(Invite.token_hash == token_hash(token))).first()
    if invite is None:
        return _refused(session, Outcome.UNKNOWN, telegram_id, now)
    person = session.get(Person, invite.person_id)
    if person is None or person.retired_at is not None:
        return _refused(session, Outcome.RETIRED, telegram_id, now, invite.person_id)
    if invite.used_at is not None:
        if invite.used_by == telegram_id and person.telegram_id == telegram_id:
            return Redemption(Outcome.ALREADY_BOUND, person)
        return _refused(session, Outcome.USED, telegram_id, now, person.id)
    if invite.expires_at <= now:
        return _refused(session, Outcome.EXPIRED, telegram_id, now, person.id)
    holder = session.exec(select(Person).where(Person.telegram_id == telegram_id)).first()
    if holder is not None and holder.id != person.id:
        return _refused(session, Outcome.OTHER_PERSON, telegram_id, now, person.id, holder)
    invite.used_at = now
    invite.used_by = telegram_id
    previous = person.telegram_id
    person.telegram_id = telegram_id
    person.updated_at = now
    session.add(AuditLog(at=now, actor_telegram_id=telegram_id, person_id=person.id, action="bound",
                         detail={"invite_id": invite.id, "previous_telegram_id": previous}))
    session.flush()
    return Redemption(Outcome.BOUND, person)


def _refused(session: Session, outcome: Outcome, telegram_id: int, now: datetime, person_id: str | None = None,
             person: Person | None = None) -> Redemption:
    session.add(AuditLog(at=now, actor_telegram_id=telegram_id, person_id=person_id, action="invite_refused",
                         detail={"reason": outcome.value}))
    session.flush()
    return Redemption(outcome, person)
