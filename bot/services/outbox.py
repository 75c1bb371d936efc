"""The durable outbox: the one way services send messages.

Services never call Telegram. They enqueue a payload with a dedupe key (the same key twice is a
no-op, which is what makes catch-up after downtime and re-running a job safe) and a priority
(叫应 first). The sender in bot/telegram/sender.py drains it within Telegram's limits.

Payloads are plain JSON, Telegram-neutral enough that another channel could render them:
  {"method": "sendMessage", "text": str, "buttons": [[{"text": str, "data": str}], ...]}
  {"method": "sendDocument", "path": str (absolute or relative to DATA_DIR), "filename": str, "caption": str}
  {"method": "sendPhoto", "path"|"file_id": str, "caption": str}
  {"method": "editMessageText", "edit_of": <outbox id of the message to edit>, "text": str, "buttons": ...}
`buttons` rows hold callback buttons; `{"text", "url"}` makes a link button.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.store.models import Outbox

# Lower goes first.
CALLOUT = 0
INTERACTIVE = 10  # answers to what a person just did, office commands
ROUTINE = 50  # scheduled reminders, digests

Buttons = list[list[dict[str, str]]]


def text(body: str, buttons: Buttons | None = None) -> dict:
    payload: dict = {"method": "sendMessage", "text": body}
    if buttons:
        payload["buttons"] = buttons
    return payload


def edit(outbox_id: int, body: str, buttons: Buttons | None = None) -> dict:
    payload: dict = {"method": "editMessageText", "edit_of": outbox_id, "text": body}
    if buttons is not None:
        payload["buttons"] = buttons
    return payload


def document(path: str, filename: str, caption: str = "") -> dict:
    return {"method": "sendDocument", "path": path, "filename": filename, "caption": caption}


def button(label: str, data: str) -> dict[str, str]:
    if len(data.encode()) > 64:  # Telegram's limit for callback_data
        raise ValueError(f"callback data too long: {data!r}")
    return {"text": label, "data": data}


def enqueue(session: Session, *, chat_id: int, payload: dict, dedupe_key: str, priority: int = ROUTINE,
            person_id: str | None = None, not_before: datetime | None = None) -> Outbox | None:
    """Queue a message; None when a message with this dedupe key was queued before."""
    if session.exec(select(Outbox.id).where(Outbox.dedupe_key == dedupe_key)).first() is not None:
        return None
    row = Outbox(chat_id=chat_id, payload=payload, dedupe_key=dedupe_key, priority=priority, person_id=person_id)
    if not_before is not None:
        row.not_before = not_before
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # queued concurrently by another process
        return None
    return row
