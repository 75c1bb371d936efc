"""Calendar feeds: a person's duties as an iCalendar feed a phone calendar subscribes to
(/ics/<token>.ics), with the reminders as alarms.

The URL is the secret: the store keeps the token's SHA-256 only, so the URL is shown once when it
is made. One live feed per person: making a new one revokes the old; revoking stops it at once
(the calendar app then gets 404). The feed covers 30 days back to a year ahead, computed from the
catalogue (the same expansion as `dutybot schedule`)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.store.models import AuditLog, CalendarFeed, Person
from schedules import InstanceSpec, Schedule

BACK = timedelta(days=30)
AHEAD = timedelta(days=365)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/ics/{token}.ics"


def live(session: Session, person_id: str) -> CalendarFeed | None:
    return session.exec(select(CalendarFeed).where(CalendarFeed.person_id == person_id,
                                                   CalendarFeed.revoked_at.is_(None))).first()  # type: ignore[union-attr]


def create(session: Session, person_id: str, now: datetime, by: str | None) -> str:
    """A new secret feed token for the person (their previous feed stops working)."""
    if session.get(Person, person_id) is None:
        raise KeyError(person_id)
    revoke(session, person_id, now, by)
    token = secrets.token_urlsafe(24)
    session.add(CalendarFeed(person_id=person_id, token_hash=digest(token), created_at=now))
    session.add(AuditLog(at=now, person_id=by, action="calendar_feed.created", detail={"person": person_id}))
    session.flush()
    return token


def revoke(session: Session, person_id: str, now: datetime, by: str | None) -> bool:
    feed = live(session, person_id)
    if feed is None:
        return False
    feed.revoked_at = now
    session.add(AuditLog(at=now, person_id=by, action="calendar_feed.revoked", detail={"person": person_id}))
    return True


def person_for(session: Session, token: str, now: datetime) -> Person | None:
    """The person of a live feed token (None: unknown or revoked, or the person retired)."""
    feed = session.exec(select(CalendarFeed).where(CalendarFeed.token_hash == digest(token))).first()
    if feed is None or feed.revoked_at is not None:
        return None
    person = session.get(Person, feed.person_id)
    if person is None or person.retired_at is not None:
        return None
    if feed.last_fetched_at is None or now - feed.last_fetched_at > timedelta(hours=1):
        feed.last_fetched_at = now
    return person


def instances(schedule: Schedule, person_id: str, now: datetime) -> list[InstanceSpec]:
    today = now.astimezone(schedule.tz).date()
    return list(schedule.expand(today - BACK, today + AHEAD, person=person_id))


def to_ics(instances: list[InstanceSpec], catalog) -> bytes:
    """iCalendar text: one event per instance (the half hour before its due moment), its reminders
    as alarms, the source clause as description."""
    from icalendar import Alarm, Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//dutybot//duties//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "安全生产履职提醒")
    cal.add("x-wr-timezone", catalog.timezone)
    sources = {d.id: d.source for d in [*catalog.duties, *catalog.tasks, *catalog.holiday_checks]}
    for i in instances:
        w = i.window
        ev = Event()
        ev.add("uid", f"{w.duty_id}.{w.period_key}.{i.person.id}@dutybot")
        ev.add("summary", f"{w.title}（{w.period_key}）")
        ev.add("dtstart", w.due_at - timedelta(minutes=30))
        ev.add("dtend", w.due_at)
        source = sources.get(w.duty_id)
        if source is not None:
            ev.add("description", f"{source.document}\n{source.clause}".strip())
        for _, when in w.reminders:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", w.title)
            alarm.add("trigger", when)
            ev.add_component(alarm)
        cal.add_component(ev)
    return cal.to_ical()
