"""Secret calendar-feed URLs (/ics/{token}.ics): a phone calendar subscribes to a person's duties.

Phone calendars fetch without cookies, so the URL's token is the credential. Like sign-in links
(bot/services/signin.py) it is 256 bits and stored as its SHA-256 only: the page shows the URL once,
when it is made; losing it means revoking and making a new one. A person has at most one live feed
(making a new one revokes the old). A retired person's feed answers like a revoked one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from bot.services.signin import digest
from bot.store.models import AuditLog, CalendarFeed, Person

PAST = timedelta(days=31)  # what a feed shows: last month (for late check-ins) ...
AHEAD = timedelta(days=366)  # ... to a year ahead
TOUCH_EVERY = timedelta(minutes=10)  # last_fetched_at is written at most this often (calendars poll)


def feed_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/ics/{token}.ics"


def create(session: Session, person_id: str, now: datetime) -> str:
    """A new feed for the person (any earlier one revoked); returns the token, never stored."""
    revoke(session, person_id, now, audit=False)
    token = secrets.token_urlsafe(32)
    session.add(CalendarFeed(person_id=person_id, token_hash=digest(token), created_at=now))
    session.add(AuditLog(at=now, person_id=person_id, action="calendar_feed.created", detail={}))
    session.flush()
    return token


def revoke(session: Session, person_id: str, now: datetime, *, audit: bool = True) -> int:
    n = session.execute(update(CalendarFeed).where(CalendarFeed.person_id == person_id,
                                                   CalendarFeed.revoked_at.is_(None))  # type: ignore[union-attr]
                        .values(revoked_at=now)).rowcount or 0
    if n and audit:
        session.add(AuditLog(at=now, person_id=person_id, action="calendar_feed.revoked", detail={"feeds": n}))
    return n


def active(session: Session, person_id: str) -> CalendarFeed | None:
    return session.exec(select(CalendarFeed).where(CalendarFeed.person_id == person_id,
                                                   CalendarFeed.revoked_at.is_(None))  # type: ignore[union-attr]
                        .order_by(CalendarFeed.id.desc())).first()  # type: ignore[union-attr]


@dataclass(frozen=True)
class Feed:
    person_id: str
    start: date
    end: date  # exclusive


def lookup(session: Session, token: str, now: datetime, today: date) -> Feed | None:
    """The live feed a token opens, or None (unknown, revoked, or its person retired)."""
    if not token or len(token) > 100:
        return None
    row = session.exec(select(CalendarFeed).where(CalendarFeed.token_hash == digest(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    person = session.get(Person, row.person_id)
    if person is None or person.retired_at is not None:
        return None
    if row.last_fetched_at is None or now - row.last_fetched_at >= TOUCH_EVERY:
        row.last_fetched_at = now
        session.add(row)
    return Feed(row.person_id, today - PAST, today + AHEAD)
