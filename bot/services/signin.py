"""Signing in to the web console without passwords.

A person asks for a link (`/web` in Telegram, `dutybot web-link NAME` on the server). The link
carries a random token; the store keeps only its SHA-256, the person, an expiry (10 minutes) and
when it was used: a link works once. Opening it shows a button; pressing it (a POST, so link
previews that fetch the URL cannot spend it) creates a session.

A session is a random id in an HttpOnly cookie; the store keeps its SHA-256, the person, a CSRF
token the forms carry, and `last_seen`. It ends after 12 hours without a request or on 退出.
`last_seen` is written at most once a minute, so reading pages does not mean writing the store.
Retired people cannot sign in and their sessions stop working.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, select

from bot.store.models import AuditLog, Person, WebLink, WebSession

LINK_VALIDITY = timedelta(minutes=10)
IDLE_LIMIT = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)


class LinkState(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    RETIRED = "retired"


@dataclass
class LinkCheck:
    state: LinkState
    person: Person | None = None


@dataclass
class SignedIn:
    session_id: str  # the cookie value; never stored
    csrf_token: str
    person: Person


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def link_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/login/{token}"


def create_link(session: Session, person_id: str, now: datetime, *, via: str) -> str:
    """A fresh sign-in token for an active person (`via`: telegram | cli, for the audit log)."""
    person = session.get(Person, person_id)
    if person is None or person.retired_at is not None:
        raise KeyError(person_id)
    token = secrets.token_urlsafe(32)
    session.add(WebLink(person_id=person_id, token_hash=digest(token), created_at=now,
                        expires_at=now + LINK_VALIDITY))
    session.add(AuditLog(at=now, person_id=person_id, action="web.link_created", detail={"via": via}))
    session.flush()
    return token


def check_link(session: Session, token: str, now: datetime) -> tuple[LinkCheck, WebLink | None]:
    link = session.exec(select(WebLink).where(WebLink.token_hash == digest(token))).first()
    if link is None:
        return LinkCheck(LinkState.UNKNOWN), None
    person = session.get(Person, link.person_id)
    if person is None or person.retired_at is not None:
        return LinkCheck(LinkState.RETIRED, person), link
    if link.used_at is not None:
        return LinkCheck(LinkState.USED, person), link
    if link.expires_at <= now:
        return LinkCheck(LinkState.EXPIRED, person), link
    return LinkCheck(LinkState.VALID, person), link


def redeem(session: Session, token: str, now: datetime, *, ip: str = "") -> LinkCheck | SignedIn:
    """Spend a link and open a session; a LinkCheck saying why not otherwise (audited)."""
    check, link = check_link(session, token, now)
    if check.state is not LinkState.VALID:
        refused(session, now, "web.link_refused", check.person.id if check.person else None,
                {"reason": check.state.value, "ip": ip})
        return check
    assert link is not None and check.person is not None
    link.used_at = now
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    session.add(WebSession(id_hash=digest(session_id), person_id=check.person.id, csrf_token=csrf,
                           created_at=now, last_seen=now, ip=ip[:64]))
    session.add(AuditLog(at=now, person_id=check.person.id, action="web.signed_in", detail={"ip": ip}))
    session.flush()
    return SignedIn(session_id, csrf, check.person)


@dataclass(frozen=True)
class Current:
    """Who a request comes from."""

    person_id: str
    name: str
    is_office: bool
    csrf_token: str
    unit_id: str


def lookup(session: Session, session_id: str, now: datetime) -> Current | None:
    """The live session for a cookie value; touches last_seen (at most once a minute)."""
    row = session.exec(select(WebSession).where(WebSession.id_hash == digest(session_id))).first()
    if row is None or row.ended_at is not None or now - row.last_seen > IDLE_LIMIT:
        return None
    person = session.get(Person, row.person_id)
    if person is None or person.retired_at is not None:
        return None
    if now - row.last_seen >= TOUCH_EVERY:
        row.last_seen = now
    return Current(person.id, person.name, person.is_office, row.csrf_token, person.unit_id)


def end(session: Session, session_id: str, now: datetime) -> None:
    row = session.exec(select(WebSession).where(WebSession.id_hash == digest(session_id))).first()
    if row is not None and row.ended_at is None:
        row.ended_at = now
        session.add(AuditLog(at=now, person_id=row.person_id, action="web.signed_out", detail={}))


def refused(session: Session, now: datetime, action: str, person_id: str | None, detail: dict) -> None:
    """Every refusal of the web console goes to the audit log."""
    session.add(AuditLog(at=now, person_id=person_id, action=action, detail=detail))
