"""The /warn guided flow: level → hazard → units → text → optional file → confirm → issue.

The state of a flow in progress is a KeyValue row `callout:warn:<person id>` (so a restart in the
middle of it loses nothing). Each function takes what the office member did and returns a
`Reply` for the handler to show: a new message, or an edit of the message whose button was
tapped (multi-select), plus a short toast for the callback.

Callback data (prefix c:w:): l:<level> | h:<hazard index> | u:<unit index> | u:all | u:next |
f:skip | ok | x.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.services import flow, outbox
from bot.services.callouts import issuing, lookup
from bot.services.callouts.policy import MAX_TEXT, CalloutError
from bot.services.flow import grid, unit_choices
from bot.store import kv
from bot.store.models import Callout, Person
from bot.texts import callouts as T
from schedules.catalog import Catalog

LEVELS = ("red", "orange", "yellow", "blue")
MAX_NAMES = 30


@dataclass
class Reply(flow.Reply):
    issued: Callout | None = None


def state_key(person_id: str) -> str:
    return f"callout:warn:{person_id}"


def active_state(session: Session, person_id: str) -> dict | None:
    return kv.get(session, state_key(person_id))


def start(session: Session, catalog: Catalog, person: Person, now: datetime) -> Reply:
    kv.put(session, state_key(person.id), {"step": "level", "units": []}, now)
    buttons = [[outbox.button(f"{T.LEVEL_ICONS[lv]} {T.LEVEL_NAMES[lv]}", f"c:w:l:{lv}")
                for lv in LEVELS if _has_policy(catalog, lv)]]
    buttons.append([outbox.button(T.BTN_CANCEL, "c:w:x")])
    return Reply(T.WARN_START, buttons)


def _has_policy(catalog: Catalog, level: str) -> bool:
    return any(k.value == level for k in catalog.callouts)


def _hazard_step(state: dict) -> Reply:
    rows = grid([(name, f"c:w:h:{i}") for i, name in enumerate(T.HAZARDS)], per_row=4)
    rows.append([outbox.button(T.BTN_CANCEL, "c:w:x")])
    return Reply(T.WARN_HAZARD.format(level=T.LEVEL_NAMES[state["level"]]), rows)


def _units_step(catalog: Catalog, state: dict, edit: bool = False) -> Reply:
    chosen = state.get("units") or []
    rows = grid([(f"✓ {name}" if uid in chosen else name, f"c:w:u:{i}")
                 for i, (uid, name) in enumerate(unit_choices(catalog))])
    rows.append([outbox.button(T.BTN_ALL, "c:w:u:all"), outbox.button(T.BTN_NEXT, "c:w:u:next")])
    rows.append([outbox.button(T.BTN_CANCEL, "c:w:x")])
    names = {uid: name for uid, name in unit_choices(catalog)}
    shown = "、".join(names.get(u, u) for u in chosen) or T.NONE
    return Reply(T.WARN_UNITS.format(chosen=shown), rows, edit=edit)


def _confirm_step(session: Session, catalog: Catalog, state: dict, now: datetime) -> Reply:
    people = issuing.preview(session, catalog, state["level"], state.get("units") or [], now)
    if not people:
        state["step"] = "units"
        return Reply(T.WARN_NO_RECIPIENTS, _units_step(catalog, state).buttons)
    names = "、".join(p.name for p in people[:MAX_NAMES]) + (f" 等{len(people)}人" if len(people) > MAX_NAMES else "")
    att = state.get("attachment")
    text = T.WARN_CONFIRM.format(icon=T.LEVEL_ICONS[state["level"]], level=T.LEVEL_NAMES[state["level"]],
                                 hazard=state.get("hazard", ""), n=len(people), names=names,
                                 scope="、".join(lookup.unit_names(session, state.get("units") or [])) or T.SCOPE_ALL,
                                 attachment=(att.get("filename") or att.get("kind")) if att else T.WARN_NO_ATTACHMENT,
                                 text=state.get("text", ""))
    return Reply(text, [[outbox.button(T.BTN_CONFIRM, "c:w:ok"), outbox.button(T.BTN_CANCEL, "c:w:x")]])


def on_callback(session: Session, catalog: Catalog, person: Person, data: str, now: datetime,
                board_chat_id: int | None) -> Reply:
    state = active_state(session, person.id)
    parts = data.split(":")[2:]  # after "c:w"
    if not parts:
        return Reply(toast=T.WARN_EXPIRED)
    if parts[0] == "x":
        kv.put(session, state_key(person.id), None, now)
        return Reply(T.WARN_CANCELLED, edit=True, toast=T.WARN_CANCELLED)
    if state is None:
        return Reply(toast=T.WARN_EXPIRED, alert=True)
    step, action = state.get("step"), parts[0]
    if action == "l" and step == "level" and len(parts) == 2 and parts[1] in LEVELS:
        state.update(step="hazard", level=parts[1])
        reply = _hazard_step(state)
    elif action == "h" and step == "hazard" and len(parts) == 2 and parts[1].isdigit() and int(parts[1]) < len(T.HAZARDS):
        state.update(step="units", hazard=T.HAZARDS[int(parts[1])])
        reply = _units_step(catalog, state)
    elif action == "u" and step == "units" and len(parts) == 2:
        choices = unit_choices(catalog)
        if parts[1] == "all":
            state.update(step="text", units=[])
            reply = Reply(T.WARN_TEXT)
        elif parts[1] == "next":
            if not state.get("units"):
                return Reply(toast=T.WARN_UNITS_NONE, alert=True)
            state["step"] = "text"
            reply = Reply(T.WARN_TEXT)
        elif parts[1].isdigit() and int(parts[1]) < len(choices):
            uid = choices[int(parts[1])][0]
            units = list(state.get("units") or [])
            units.remove(uid) if uid in units else units.append(uid)
            state["units"] = units
            reply = _units_step(catalog, state, edit=True)
        else:
            return Reply(toast=T.WARN_EXPIRED, alert=True)
    elif action == "f" and step == "file":
        state["step"] = "confirm"
        reply = _confirm_step(session, catalog, state, now)
    elif action == "ok" and step == "confirm":
        try:
            callout = issuing.issue(session, catalog, level=state["level"], text=state.get("text", ""),
                                     units=state.get("units") or [], hazard=state.get("hazard", ""),
                                     issued_by=person.id, attachment=state.get("attachment"), now=now,
                                     board_chat_id=board_chat_id)
        except CalloutError as e:
            return Reply(toast=str(e).split(" / ")[0], alert=True)
        kv.put(session, state_key(person.id), None, now)
        n = len(lookup.targets_of(session, callout.id))
        done = T.WARN_ISSUED.format(cid=callout.id, n=n)
        return Reply(done, edit=True, toast=done, issued=callout)
    else:
        return Reply(toast=T.WARN_EXPIRED, alert=True)
    kv.put(session, state_key(person.id), state, now)
    return reply


def on_text(session: Session, catalog: Catalog, person: Person, text: str, now: datetime) -> Reply | None:
    """A text message during the flow; None when the person is not at a step that takes text."""
    state = active_state(session, person.id)
    if state is None or state.get("step") != "text":
        return None
    text = (text or "").strip()
    if not text:
        return Reply(T.WARN_TEXT_EMPTY)
    state.update(step="file", text=text[:MAX_TEXT])
    kv.put(session, state_key(person.id), state, now)
    return Reply(T.WARN_FILE, [[outbox.button(T.BTN_SKIP, "c:w:f:skip"), outbox.button(T.BTN_CANCEL, "c:w:x")]])


def expects_file(session: Session, person_id: str) -> bool:
    state = active_state(session, person_id)
    return bool(state and state.get("step") == "file")


def on_file(session: Session, catalog: Catalog, person: Person, attachment: dict, now: datetime) -> Reply | None:
    """A photo or document at the file step (`attachment` as for callouts.issue)."""
    state = active_state(session, person.id)
    if state is None or state.get("step") != "file":
        return None
    state.update(step="confirm", attachment=attachment)
    kv.put(session, state_key(person.id), state, now)
    reply = _confirm_step(session, catalog, state, now)
    reply.text = T.WARN_FILE_GOT.format(name=attachment.get("filename") or attachment.get("kind")) + "\n\n" + reply.text
    return reply
