"""Who a 叫应 reaches: the recipients of a warning and the people its escalation chain names.

Recipients rule (what a safety office expects):
- the policy's `who` (roles, named people, and the policy's own units if it has any) picks the
  people; only active people serving today count;
- no units chosen (or 全部, or the top unit): everyone the policy picks;
- units chosen: the people of those units, each unit with its descendants, **plus the policy's
  people of every unit above them** — the park leadership (园区管委会) leads the response for
  every department under it, so a warning for 规划建设部 still reaches the 主要负责人 and the
  分管负责人 (if the level's policy names their roles); sibling departments are not called.

Everything is read from the store (people and units as synced from duties.yaml, with their
Telegram bindings), so the CLI and the bot see the same recipients.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.store.models import Person, Unit


def unit_parents(session: Session) -> dict[str, str | None]:
    return {u.id: u.parent_id for u in session.exec(select(Unit).where(Unit.retired_at.is_(None)))}  # type: ignore[union-attr]


def resolve_unit(session: Session, key: str) -> str | None:
    """A unit id from its id or its name."""
    key = key.strip()
    row = session.get(Unit, key)
    if row is not None and row.retired_at is None:
        return row.id
    row = session.exec(select(Unit).where(Unit.name == key, Unit.retired_at.is_(None))).first()  # type: ignore[union-attr]
    return row.id if row else None


def descendants(parents: dict[str, str | None], unit_id: str) -> set[str]:
    found = {unit_id}
    changed = True
    while changed:
        changed = False
        for uid, parent in parents.items():
            if parent in found and uid not in found:
                found.add(uid)
                changed = True
    return found


def ancestors(parents: dict[str, str | None], unit_id: str) -> set[str]:
    found: set[str] = set()
    current = parents.get(unit_id)
    while current is not None and current not in found:
        found.add(current)
        current = parents.get(current)
    return found


def scope(parents: dict[str, str | None], chosen: Iterable[str]) -> set[str] | None:
    """The units whose people a warning for `chosen` reaches; None: all units."""
    chosen = list(chosen)
    if not chosen:
        return None
    reached: set[str] = set()
    for unit in chosen:
        if parents.get(unit, "missing") is None:  # the top unit: park-wide
            return None
        reached |= descendants(parents, unit) | ancestors(parents, unit)
    return reached


def serving(person: Person, now: datetime) -> bool:
    if person.retired_at is not None:
        return False
    if person.term_from is not None and person.term_from > now:
        return False
    # term_to is a day (midnight UTC); the person serves through that day.
    return not (person.term_to is not None and person.term_to + timedelta(days=1) <= now)


def matches(person: Person, who: dict) -> bool:
    roles, named = set(who.get("roles") or ()), set(who.get("people") or ())
    return bool(set(person.roles or ()) & roles) or person.id in named or person.name in named


def recipients(session: Session, who: dict, units: Iterable[str], now: datetime,
               order: dict[str, int] | None = None) -> list[Person]:
    """The people a warning with policy `who` for `units` calls, in catalogue order when given."""
    parents = unit_parents(session)
    policy_units = scope_of_policy(parents, who)
    reached = scope(parents, units)
    out = []
    for person in session.exec(select(Person).where(Person.retired_at.is_(None))):  # type: ignore[union-attr]
        if not serving(person, now) or not matches(person, who):
            continue
        if policy_units is not None and person.unit_id not in policy_units and person.id not in (who.get("people") or ()):
            continue
        if reached is not None and person.unit_id not in reached:
            continue
        out.append(person)
    rank = order or {}
    out.sort(key=lambda p: (rank.get(p.id, len(rank)), p.unit_id, p.name))
    return out


def scope_of_policy(parents: dict[str, str | None], who: dict) -> set[str] | None:
    units = who.get("units") or ()
    if not units:
        return None
    return set().union(*(descendants(parents, u) for u in units))


def resolve_step(session: Session, step: str, person: Person, now: datetime) -> list[Person]:
    """The people one escalation step names for `person`: deputy, superior, office or a person."""
    if step in ("deputy", "superior"):
        pid = person.deputy_id if step == "deputy" else person.superior_id
        other = session.get(Person, pid) if pid else None
        return [other] if other is not None and serving(other, now) else []
    if step == "office":
        rows = session.exec(select(Person).where(Person.is_office.is_(True), Person.retired_at.is_(None)))  # type: ignore[attr-defined]
        return sorted((p for p in rows if serving(p, now)), key=lambda p: p.id)
    other = session.get(Person, step) or session.exec(select(Person).where(Person.name == step)).first()
    return [other] if other is not None and serving(other, now) else []
