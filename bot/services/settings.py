"""Personal settings: what duties.yaml says for a person, unless they chose otherwise in Telegram.

Only one setting today, `digest` (schedules.catalog.DIGEST_MODES): routine reminders held for one
digest a day at the catalogue's remind_at ("daily", the default) or sent as they fall due
("each"). The catalogue value is the office's default; a choice made with /settings is stored in
`PersonSetting` and wins, so a later `dutybot sync` never undoes what the person chose.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from bot.services import outbox
from bot.store.models import PersonSetting
from bot.texts import digest as T
from schedules import Catalog
from schedules.catalog import DIGEST_MODES

DIGEST = "digest"


def digest_mode(session: Session, catalog: Catalog, person_id: str) -> str:
    row = session.get(PersonSetting, (person_id, DIGEST))
    if row is not None and row.value in DIGEST_MODES:
        return row.value
    person = catalog.find_person(person_id)
    return person.digest if person is not None else DIGEST_MODES[0]


def digest_modes(session: Session, catalog: Catalog, person_ids: set[str]) -> dict[str, str]:
    """digest_mode for many people at once (one query)."""
    chosen = {r.person_id: r.value for r in session.exec(
        select(PersonSetting).where(PersonSetting.key == DIGEST, PersonSetting.person_id.in_(person_ids)))  # type: ignore[attr-defined]
        if r.value in DIGEST_MODES}
    out = {}
    for pid in person_ids:
        person = catalog.find_person(pid)
        out[pid] = chosen.get(pid) or (person.digest if person is not None else DIGEST_MODES[0])
    return out


def set_digest_mode(session: Session, person_id: str, mode: str, now: datetime) -> bool:
    """Store the person's choice; False when it was already so."""
    if mode not in DIGEST_MODES:
        raise ValueError(mode)
    row = session.get(PersonSetting, (person_id, DIGEST))
    if row is None:
        session.add(PersonSetting(person_id=person_id, key=DIGEST, value=mode, updated_at=now))
    elif row.value == mode:
        return False
    else:
        row.value, row.updated_at = mode, now
    session.flush()
    return True


def view(session: Session, catalog: Catalog, person_id: str) -> tuple[str, outbox.Buttons]:
    """/settings: the current choice and one button per mode (the current one ticked)."""
    at = f"{catalog.defaults.remind_at:%H:%M}"
    current = digest_mode(session, catalog, person_id)
    labels = {"daily": T.BTN_DAILY.format(at=at), "each": T.BTN_EACH}
    buttons = [[outbox.button(T.BTN_CHOSEN.format(label=labels[m]) if m == current else labels[m], f"d:set:{m}")]
               for m in DIGEST_MODES]
    return T.SETTINGS.format(current=T.MODE_NAMES[current].format(at=at), at=at), buttons


def choose(session: Session, catalog: Catalog, person_id: str, chat_id: int, mode: str, tap_id: str,
           now: datetime) -> str:
    """A /settings button: store the choice and say so; returns the toast."""
    if mode not in DIGEST_MODES:
        return T.SETTINGS_SAME
    at = f"{catalog.defaults.remind_at:%H:%M}"
    name = T.MODE_NAMES[mode].format(at=at)
    if not set_digest_mode(session, person_id, mode, now):
        return T.SETTINGS_SAME
    outbox.enqueue(session, chat_id=chat_id, payload=outbox.text(T.SETTINGS_SAVED.format(mode=name)),
                   dedupe_key=f"settings:{tap_id}", priority=outbox.INTERACTIVE, person_id=person_id)
    return T.SETTINGS_SAVED.format(mode=name)
