"""Ad-hoc campaigns (专项检查: 事故防范检查 "举一反三隐患排查", 重点时段检查 …) launched by the office.

A campaign is a `Duty` row with item="campaign" (sync leaves those alone) and one `DutyInstance`
per person, opening now and due at the deadline; check-ins work on it like on any other duty.
Its messages go through the outbox with routine priority, out of quiet hours, and with the
reminder's `if_open` so nobody done is reminded:
- at launch: the notice (dedupe `remind:<instance id>:open`);
- before the deadline (`remind:<instance id>:before`): one day before when the campaign runs for
  more than two days, else halfway; moved out of quiet hours (later if still before the
  deadline, else to just before the quiet hours start).
`tick(session, schedule, now)` sends the reminders that fell due and closes instances whose
closes_at passed (status missed), like the catalogue's close jobs do for duties.

The /campaign guided flow (title → roles → units → deadline → note → confirm) keeps its state in
KeyValue `campaign:flow:<person id>`; callback data prefix c:cp:.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from bot.services import flow, outbox, reminders
from bot.services.callouts import reach
from bot.services.flow import grid, unit_choices
from bot.store import kv
from bot.store.models import AuditLog, Duty, DutyInstance, Outbox, Person
from bot.texts import callouts as T
from bot.texts import fmt
from schedules import Schedule


class CampaignError(ValueError):
    """A user mistake: the message says what to fix."""


@dataclass
class Launched:
    duty: Duty
    instances: list[DutyInstance]
    queued: int


def members(session: Session, roles: list[str], units: list[str], now: datetime,
            order: dict[str, int] | None = None) -> list[Person]:
    """Active people with any of `roles` (all roles when empty) in `units` and below (all when empty)."""
    parents = reach.unit_parents(session)
    reached = set().union(*(reach.descendants(parents, u) for u in units)) if units else None
    out = []
    for p in session.exec(select(Person).where(Person.retired_at.is_(None))):  # type: ignore[union-attr]
        if not reach.serving(p, now):
            continue
        if roles and not set(p.roles or ()) & set(roles):
            continue
        if reached is not None and p.unit_id not in reached:
            continue
        out.append(p)
    rank = order or {}
    out.sort(key=lambda p: (rank.get(p.id, len(rank)), p.unit_id, p.name))
    return out


def _duty_id(session: Session, now: datetime, tz) -> str:
    base = f"campaign-{now.astimezone(tz):%Y%m%d-%H%M%S}"
    ident, n = base, 1
    while session.get(Duty, ident) is not None:
        n += 1
        ident = f"{base}-{n}"
    return ident


def launch(session: Session, schedule: Schedule, *, title: str, due: datetime, now: datetime,
           roles: list[str] | None = None, units: list[str] | None = None, issued_by: str | None = None,
           note: str = "") -> Launched:
    catalog = schedule.catalog
    title = (title or "").strip()
    if not title:
        raise CampaignError(T.ERR_CAMPAIGN_TITLE)
    if due <= now:
        raise CampaignError(T.ERR_CAMPAIGN_DEADLINE)
    roles = [r for r in roles or [] if r]
    for role in roles:
        if role not in catalog.roles:
            raise CampaignError(T.ERR_CAMPAIGN_ROLE.format(value=role))
    unit_ids = []
    for u in units or []:
        uid = reach.resolve_unit(session, u)
        if uid is None:
            raise CampaignError(T.ERR_UNIT.format(value=u))
        unit_ids.append(uid)
    order = {p.id: i for i, p in enumerate(catalog.people)}
    people = members(session, roles, unit_ids, now, order)
    if not people:
        raise CampaignError(T.ERR_CAMPAIGN_PEOPLE)
    tz = schedule.tz
    duty = Duty(id=_duty_id(session, now, tz), item="campaign", title=title[:200], kind="inspection",
                frequency=f"{fmt.full(due, tz)}前", source_document=T.CAMPAIGN_SOURCE, source_clause=note.strip(),
                updated_at=now)
    session.add(duty)
    closes = due + timedelta(days=catalog.defaults.late_days)
    period = f"{due.astimezone(tz):%Y-%m-%d}"
    instances = [DutyInstance(duty_id=duty.id, person_id=p.id, period_key=period, opens_at=now, due_at=due,
                              closes_at=closes, required=1) for p in people]
    session.add_all(instances)
    session.flush()
    issuer = session.get(Person, issued_by) if issued_by else None
    lead = T.CAMPAIGN_LEAD.format(issuer=issuer.name if issuer else T.ISSUER_UNKNOWN)
    send_at = reminders.out_of_quiet(now, catalog.defaults.quiet_hours, schedule)
    by_id = {p.id: p for p in people}
    messages = [Outbox(chat_id=by_id[i.person_id].telegram_id, person_id=i.person_id, priority=outbox.ROUTINE,
                       dedupe_key=f"remind:{i.id}:open", payload=reminders.reminder_payload(i, duty, lead),
                       not_before=send_at)
                for i in instances if by_id[i.person_id].telegram_id is not None]
    queued = reminders.enqueue_many(session, messages)
    session.add(AuditLog(at=now, person_id=issued_by, action="campaign.launch",
                         detail={"duty": duty.id, "title": title, "roles": roles, "units": unit_ids,
                                 "due": due.isoformat(), "people": len(people)}))
    return Launched(duty, instances, queued)


def reminder_moment(instance: DutyInstance, schedule: Schedule) -> datetime:
    """When the before-deadline reminder of a campaign instance goes out."""
    span = instance.due_at - instance.opens_at
    lead = timedelta(days=1) if span > timedelta(days=2) else span / 2
    at = instance.due_at - lead
    quiet = schedule.catalog.defaults.quiet_hours
    moved = reminders.out_of_quiet(at, quiet, schedule)
    if moved == at or moved < instance.due_at:
        return moved
    # The quiet hours run past the deadline: remind in the evening before they start.
    local = at.astimezone(schedule.tz)
    day = local.date() if local.time() >= quiet.start else local.date() - timedelta(days=1)
    return max(instance.opens_at, datetime.combine(day, quiet.start, schedule.tz) - timedelta(minutes=30))


def tick(session: Session, schedule: Schedule, now: datetime) -> int:
    """Queue campaign reminders that fell due, close what passed; returns messages queued."""
    duties = {d.id: d for d in session.exec(select(Duty).where(Duty.item == "campaign", Duty.retired_at.is_(None)))}  # type: ignore[union-attr]
    if not duties:
        return 0
    rows = session.exec(select(DutyInstance, Person.telegram_id)
                        .join(Person, Person.id == DutyInstance.person_id)
                        .where(col(DutyInstance.duty_id).in_(list(duties)), DutyInstance.status == "open",
                               DutyInstance.done_count < DutyInstance.required, DutyInstance.due_at > now,
                               Person.telegram_id.is_not(None))).all()  # type: ignore[union-attr]
    lead = T.CAMPAIGN_REMIND_LEAD
    messages = []
    for inst, tg in rows:
        if reminder_moment(inst, schedule) <= now:
            messages.append(Outbox(chat_id=tg, person_id=inst.person_id, priority=outbox.ROUTINE,
                                   dedupe_key=f"remind:{inst.id}:before",
                                   payload=reminders.reminder_payload(inst, duties[inst.duty_id], lead)))
    queued = reminders.enqueue_many(session, messages) if messages else 0
    for duty_id in duties:
        reminders.close_due(session, now, duty_id)
    return queued


def active(session: Session, now: datetime) -> list[tuple[Duty, int, int]]:
    """Campaigns with open instances: (duty, done, total)."""
    out = []
    for duty in session.exec(select(Duty).where(Duty.item == "campaign").order_by(Duty.id)):
        insts = session.exec(select(DutyInstance).where(DutyInstance.duty_id == duty.id)).all()
        if any(i.status == "open" for i in insts):
            out.append((duty, sum(1 for i in insts if i.status in ("done", "late")), len(insts)))
    return out


# ---------------------------------------------------------------------------------------------
# The /campaign guided flow
# ---------------------------------------------------------------------------------------------
DEADLINE_DAYS = (3, 7, 15, 30)


@dataclass
class Reply(flow.Reply):
    launched: Launched | None = None


def flow_key(person_id: str) -> str:
    return f"campaign:flow:{person_id}"


def flow_state(session: Session, person_id: str) -> dict | None:
    return kv.get(session, flow_key(person_id))



def _roles(schedule: Schedule) -> list[str]:
    return list(schedule.catalog.roles)


def _units(schedule: Schedule) -> list[tuple[str, str]]:
    return unit_choices(schedule.catalog)


def start_flow(session: Session, person: Person, now: datetime) -> Reply:
    kv.put(session, flow_key(person.id), {"step": "title", "roles": [], "units": []}, now)
    rows = grid([(t, f"c:cp:t:{i}") for i, t in enumerate(T.CAMPAIGN_TITLES)], 1)
    rows.append([outbox.button(T.BTN_CANCEL, "c:cp:x")])
    return Reply(T.CAMPAIGN_START, rows)


def _roles_step(schedule: Schedule, state: dict, edit: bool = False) -> Reply:
    chosen = state.get("roles") or []
    rows = grid([(f"✓ {r}" if r in chosen else r, f"c:cp:r:{i}") for i, r in enumerate(_roles(schedule))])
    rows.append([outbox.button(T.BTN_ALL, "c:cp:r:all"), outbox.button(T.BTN_NEXT, "c:cp:r:next")])
    rows.append([outbox.button(T.BTN_CANCEL, "c:cp:x")])
    return Reply(T.CAMPAIGN_ROLES.format(chosen="、".join(chosen) or T.CAMPAIGN_ALL_ROLES), rows, edit=edit)


def _units_step(schedule: Schedule, state: dict, edit: bool = False) -> Reply:
    chosen = state.get("units") or []
    units = _units(schedule)
    rows = grid([(f"✓ {name}" if uid in chosen else name, f"c:cp:u:{i}") for i, (uid, name) in enumerate(units)])
    rows.append([outbox.button(T.BTN_ALL, "c:cp:u:all"), outbox.button(T.BTN_NEXT, "c:cp:u:next")])
    rows.append([outbox.button(T.BTN_CANCEL, "c:cp:x")])
    names = dict(units)
    return Reply(T.CAMPAIGN_UNITS.format(chosen="、".join(names.get(u, u) for u in chosen) or T.SCOPE_ALL), rows,
                 edit=edit)


def _deadline_step() -> Reply:
    rows = grid([(T.CAMPAIGN_DAYS.format(n=n), f"c:cp:d:{n}") for n in DEADLINE_DAYS], 4)
    rows.append([outbox.button(T.BTN_CANCEL, "c:cp:x")])
    return Reply(T.CAMPAIGN_DEADLINE, rows)


def _note_step() -> Reply:
    return Reply(T.CAMPAIGN_NOTE, [[outbox.button(T.BTN_SKIP, "c:cp:n:skip"), outbox.button(T.BTN_CANCEL, "c:cp:x")]])


def _confirm_step(session: Session, schedule: Schedule, state: dict, now: datetime) -> Reply:
    order = {p.id: i for i, p in enumerate(schedule.catalog.people)}
    people = members(session, state.get("roles") or [], state.get("units") or [], now, order)
    if not people:
        state["step"] = "roles"
        return Reply(T.CAMPAIGN_NO_PEOPLE, _roles_step(schedule, state).buttons)
    names = "、".join(p.name for p in people[:30]) + (f" 等{len(people)}人" if len(people) > 30 else "")
    unit_names = dict(_units(schedule))
    note = T.CAMPAIGN_NOTE_LINE.format(note=state["note"]) if state.get("note") else ""
    text = T.CAMPAIGN_CONFIRM.format(
        title=state["title"], roles="、".join(state.get("roles") or []) or T.CAMPAIGN_ALL_ROLES,
        units="、".join(unit_names.get(u, u) for u in state.get("units") or []) or T.SCOPE_ALL,
        deadline=fmt.moment(datetime.fromisoformat(state["due"]), schedule.tz), n=len(people), names=names, note=note)
    return Reply(text, [[outbox.button(T.BTN_CONFIRM, "c:cp:ok"), outbox.button(T.BTN_CANCEL, "c:cp:x")]])


def deadline_from_days(schedule: Schedule, now: datetime, days: int) -> datetime:
    day = now.astimezone(schedule.tz).date() + timedelta(days=days)
    return datetime.combine(day, schedule.catalog.defaults.due_time, schedule.tz)


def parse_deadline(schedule: Schedule, text: str, now: datetime) -> datetime | None:
    """2026-06-30, 2026/6/30, 6月30日, 6-30 → that day at the catalogue's due time (local)."""
    text = text.strip()
    today = now.astimezone(schedule.tz).date()
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if m:
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    elif m := re.fullmatch(r"(\d{1,2})[-/.月](\d{1,2})日?", text):
        y, mo, d = today.year, int(m[1]), int(m[2])
    else:
        return None
    try:
        day = date(y, mo, d)
    except ValueError:
        return None
    if not m.group(0).startswith(str(y)) and day < today:
        day = date(y + 1, mo, d)
    due = datetime.combine(day, schedule.catalog.defaults.due_time, schedule.tz)
    return due if due > now else None


def on_callback(session: Session, schedule: Schedule, person: Person, data: str, now: datetime) -> Reply:
    parts = data.split(":")[2:]  # after "c:cp"
    if parts and parts[0] == "x":
        kv.put(session, flow_key(person.id), None, now)
        return Reply(T.CAMPAIGN_CANCELLED, edit=True, toast=T.CAMPAIGN_CANCELLED)
    state = flow_state(session, person.id)
    if state is None or not parts:
        return Reply(toast=T.WARN_EXPIRED, alert=True)
    step, action, arg = state.get("step"), parts[0], parts[1] if len(parts) > 1 else ""
    if action == "t" and step == "title" and arg.isdigit() and int(arg) < len(T.CAMPAIGN_TITLES):
        state.update(step="roles", title=T.CAMPAIGN_TITLES[int(arg)])
        reply = _roles_step(schedule, state)
    elif action in ("r", "u") and step == ("roles" if action == "r" else "units"):
        field_ = "roles" if action == "r" else "units"
        choices = _roles(schedule) if action == "r" else [uid for uid, _ in _units(schedule)]
        if arg == "all":
            state[field_] = []
            arg = "next"
        if arg == "next":
            if action == "r":
                state["step"] = "units"
                reply = _units_step(schedule, state)
            else:
                state["step"] = "deadline"
                reply = _deadline_step()
        elif arg.isdigit() and int(arg) < len(choices):
            value = choices[int(arg)]
            chosen = list(state.get(field_) or [])
            chosen.remove(value) if value in chosen else chosen.append(value)
            state[field_] = chosen
            reply = (_roles_step if action == "r" else _units_step)(schedule, state, edit=True)
        else:
            return Reply(toast=T.WARN_EXPIRED, alert=True)
    elif action == "d" and step == "deadline" and arg.isdigit():
        state.update(step="note", due=deadline_from_days(schedule, now, int(arg)).isoformat())
        reply = _note_step()
    elif action == "n" and step == "note":
        state["step"] = "confirm"
        reply = _confirm_step(session, schedule, state, now)
    elif action == "ok" and step == "confirm":
        try:
            launched = launch(session, schedule, title=state["title"], due=datetime.fromisoformat(state["due"]),
                              roles=state.get("roles") or [], units=state.get("units") or [], now=now,
                              issued_by=person.id, note=state.get("note", ""))
        except CampaignError as e:
            return Reply(toast=str(e).split(" / ")[0], alert=True)
        kv.put(session, flow_key(person.id), None, now)
        done = T.CAMPAIGN_LAUNCHED.format(title=launched.duty.title, n=len(launched.instances),
                                          deadline=fmt.moment(launched.instances[0].due_at, schedule.tz))
        return Reply(done, edit=True, toast=done, launched=launched)
    else:
        return Reply(toast=T.WARN_EXPIRED, alert=True)
    kv.put(session, flow_key(person.id), state, now)
    return reply


def on_text(session: Session, schedule: Schedule, person: Person, text: str, now: datetime) -> Reply | None:
    """A text at a step that takes one (title, deadline, note); None otherwise (not ours)."""
    state = flow_state(session, person.id)
    if state is None or state.get("step") not in ("title", "deadline", "note"):
        return None
    text = (text or "").strip()
    step = state["step"]
    if step == "title":
        if not text:
            return Reply(T.ERR_CAMPAIGN_TITLE.split(" / ")[0])
        state.update(step="roles", title=text[:200])
        reply = _roles_step(schedule, state)
    elif step == "deadline":
        due = parse_deadline(schedule, text, now)
        if due is None:
            return Reply(T.CAMPAIGN_DEADLINE_BAD, _deadline_step().buttons)
        state.update(step="note", due=due.isoformat())
        reply = _note_step()
    else:
        state.update(step="confirm", note=text[:1000])
        reply = _confirm_step(session, schedule, state, now)
    kv.put(session, flow_key(person.id), state, now)
    return reply
