"""Channels: the ways a message reaches a person.

A channel takes a `Message` and queues it durably in the caller's transaction (so a crash loses
nothing and two workers do not send it twice: every message has a dedupe key); its own worker
delivers it later and records what happened. Telegram is one channel (the outbox, drained by
bot/telegram/sender.py); 叫应 adds two more, a voice call that reads the warning and takes 1 as
收到, and an SMS with the warning and a 收到 link (bot/services/callouts/contacts.py, delivered
by bot/phone/ through the provider's API).

    channel.reaches(person) -> bool       does this person have what the channel needs
    channel.send(session, message, now)   queue it; False when the person cannot be reached

The services pick channels by name (`CHANNELS`), as a policy names them (`escalate: [voice, …]`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlmodel import Session

from bot.services import outbox
from bot.store.models import Person


@dataclass
class Message:
    person: Person
    text: str  # what a person reads (Telegram) or what the record shows (voice, SMS)
    dedupe_key: str
    priority: int = outbox.CALLOUT
    buttons: list[list[dict]] | None = None
    # For the phone channels: the callout, the target, and what the call or SMS is for.
    callout_id: int | None = None
    target_id: int | None = None
    purpose: str = "call"  # call (answer expected) | notice
    params: dict = field(default_factory=dict)  # template parameters of the provider's message


class Channel(Protocol):
    name: str

    def reaches(self, person: Person) -> bool: ...

    def send(self, session: Session, message: Message, now: datetime) -> bool: ...


class TelegramChannel:
    name = "telegram"

    def reaches(self, person: Person) -> bool:
        return person.telegram_id is not None

    def send(self, session: Session, message: Message, now: datetime) -> bool:
        if not self.reaches(message.person):
            return False
        outbox.enqueue(session, chat_id=message.person.telegram_id, payload=outbox.text(message.text, message.buttons),
                       priority=message.priority, dedupe_key=message.dedupe_key, person_id=message.person.id)
        return True


TELEGRAM = TelegramChannel()


def channel(name: str) -> Channel:
    """A channel by the name a policy uses."""
    if name == "telegram":
        return TELEGRAM
    from bot.services.callouts import contacts

    return contacts.PHONE_CHANNELS[name]
