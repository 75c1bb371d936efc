"""Who is who: people by Telegram id, the office, deputies and superiors."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.store.models import Person


def by_telegram(session: Session, telegram_id: int) -> Person | None:
    """The active person bound to this Telegram user, if any."""
    return session.exec(
        select(Person).where(Person.telegram_id == telegram_id, Person.retired_at.is_(None))  # type: ignore[union-attr]
    ).first()


def active(session: Session) -> list[Person]:
    return list(session.exec(select(Person).where(Person.retired_at.is_(None))))  # type: ignore[union-attr]


def office(session: Session) -> list[Person]:
    return [p for p in active(session) if p.is_office]
