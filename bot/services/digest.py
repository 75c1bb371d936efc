"""One message per person and moment: the reminder digest.

The scheduler's jobs run per catalogue item, so at 09:00 eight duties of one leader are eight
jobs. They do not send: each queues `ReminderItem`s (bot/services/reminders.py), released at once
or at the person's next daily digest, out of quiet hours. `compose_due` then takes every released
item of a person — whichever job queued it — and makes ONE outbox message of them:

- one duty: the reminder as it always looked (lead, clause, period, due, progress; five buttons);
- several: a digest — a header (今日待办 N 项, 已逾期 / 即将到期 counts), one line per duty
  (title, period, due, progress), overdue first, then by due; numbered 报告 buttons (r:done:<id>,
  the reminder's own 报告完成) and one for the whole list (/mine);
- more than fits in a message (Telegram: 4,096 characters, 100 buttons): split into pages at a
  line, each page its own message with its own buttons and continued numbering.

Every item is linked to the message that carries it, and the payload lists its instances in line
order (`instances`), so a reply to a reminder or digest finds its duties (bot/services/routing.py).
Items whose instance is done or closed by the time they are released are skipped; several items
of one instance (a catch-up) make one line. Composing runs shortly after each remind run (so the
jobs of one minute land in one message), on every heartbeat and after each catch-up; it is
idempotent (the message's dedupe key comes from its first item).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.services import outbox, reminders
from bot.store.models import Duty, DutyInstance, ReminderItem
from bot.texts import digest as T
from bot.texts import fmt
from schedules import Schedule

TEXT_LIMIT = 4096  # Telegram's limit for one message
BUTTON_LIMIT = 100  # Telegram's limit for buttons under one message
BUTTONS_PER_ROW = 5
# Jobs of one minute fire within moments of each other; composing waits this long after a remind
# run so they all land in one message.
SETTLE = timedelta(seconds=5)
ALL_DATA = "d:mine"  # the 全部待办 button (bot/telegram/handlers/leader.py)


@dataclass(frozen=True)
class Line:
    """One duty of a digest, as shown."""

    instance_id: int
    title: str
    period: str  # as shown; empty for a one-off task (its period is the task itself)
    due_at: datetime
    done: int
    required: int


@dataclass
class Page:
    text: str
    buttons: outbox.Buttons
    instance_ids: list[int]


# ------------------------------------------------------------------------------------------------
# rendering (pure)
# ------------------------------------------------------------------------------------------------
def order(lines: list[Line], now: datetime) -> list[Line]:
    """Overdue first, then by due moment (overdue ones too: the oldest first)."""
    return sorted(lines, key=lambda ln: (ln.due_at >= now, ln.due_at, ln.instance_id))


def section(line: Line, now: datetime, tz: ZoneInfo) -> str:
    if line.due_at < now:
        return T.SECTION_OVERDUE
    days = (line.due_at.astimezone(tz).date() - now.astimezone(tz).date()).days
    return T.SECTION_SOON if days <= T.SOON_DAYS else T.SECTION_LATER


def when_text(line: Line, now: datetime, tz: ZoneInfo) -> str:
    days = (line.due_at.astimezone(tz).date() - now.astimezone(tz).date()).days
    if line.due_at < now:
        return T.WHEN_OVERDUE.format(days=max(-days, 1))
    if days == 0:
        return T.WHEN_TODAY.format(clock=fmt.clock(line.due_at, tz))
    if days == 1:
        return T.WHEN_TOMORROW.format(clock=fmt.clock(line.due_at, tz))
    local = line.due_at.astimezone(tz)
    return T.WHEN_DUE.format(month=local.month, day=local.day)


def line_text(n: int, line: Line, now: datetime, tz: ZoneInfo, show_when: bool = True) -> str:
    period = T.PERIOD.format(period=line.period) if line.period else ""
    when = T.LINE_WHEN.format(when=when_text(line, now, tz)) if show_when else ""
    return T.LINE.format(n=n, title=line.title, period=period, when=when, done=line.done, required=line.required)


def header(lines: list[Line], now: datetime, tz: ZoneInfo) -> str:
    overdue = sum(1 for ln in lines if section(ln, now, tz) == T.SECTION_OVERDUE)
    soon = sum(1 for ln in lines if section(ln, now, tz) == T.SECTION_SOON)
    parts = [T.HEAD_OVERDUE.format(count=overdue)] if overdue else []
    parts += [T.HEAD_SOON.format(count=soon)] if soon else []
    return T.HEAD.format(count=len(lines), parts=T.HEAD_PARTS.format(parts="，".join(parts)) if parts else "")


def render(lines: list[Line], now: datetime, tz: ZoneInfo = fmt.SHANGHAI, text_limit: int = TEXT_LIMIT,
           button_limit: int = BUTTON_LIMIT) -> list[Page]:
    """The digest of `lines` as one or more messages, each within Telegram's limits."""
    lines = order(lines, now)
    head = header(lines, now, tz)
    headed = len({section(ln, now, tz) for ln in lines}) > 1  # one kind only: the header says it all
    # All due the same later day (the usual morning): say it once, in the header.
    days = {ln.due_at.astimezone(tz).date() for ln in lines}
    common = (len(days) == 1 and len(lines) > 1
              and (min(days) - now.astimezone(tz).date()).days > 1)
    if common:
        local = lines[0].due_at.astimezone(tz)
        head += T.HEAD_COMMON_DUE.format(month=local.month, day=local.day)
    # One button per line and the 全部待办 button on every page.
    per_page = button_limit - 1
    pages: list[list[tuple[int, Line, str]]] = [[]]
    blocks: list[list[str]] = [[]]
    size = len(head) + len(T.FOOT) + 64  # room for a "续" header and separators
    current = None
    for n, line in enumerate(lines, 1):
        sec = section(line, now, tz) if headed else ""
        text = line_text(n, line, now, tz, show_when=not common)
        added = [sec, text] if sec and sec != current else [text]
        cost = sum(len(a) + 1 for a in added) + 1
        if pages[-1] and (len(pages[-1]) >= per_page or size + cost > text_limit):
            pages.append([])
            blocks.append([])
            size = len(head) + len(T.FOOT) + 64
            added = [sec, text] if sec else [text]
            cost = sum(len(a) + 1 for a in added) + 1
        if sec and added[0] == sec:
            if blocks[-1]:
                blocks[-1].append("")
            blocks[-1].append(sec)
        blocks[-1].append(text)
        current = sec
        pages[-1].append((n, line, text))
        size += cost
    out = []
    for index, (page, block) in enumerate(zip(pages, blocks, strict=True), 1):
        top = head if index == 1 else T.HEAD_CONTINUED.format(page=index, pages=len(pages))
        body = "\n".join([top, "", *block, "", T.FOOT])
        numbers = [outbox.button(T.BTN_NUMBER.format(n=n), f"r:done:{line.instance_id}") for n, line, _ in page]
        rows = [numbers[i:i + BUTTONS_PER_ROW] for i in range(0, len(numbers), BUTTONS_PER_ROW)]
        rows.append([outbox.button(T.BTN_ALL, ALL_DATA)])
        out.append(Page(body, rows, [line.instance_id for _, line, _ in page]))
    return out


# ------------------------------------------------------------------------------------------------
# composing (store)
# ------------------------------------------------------------------------------------------------
def _is_open(inst: DutyInstance | None, now: datetime) -> bool:
    return inst is not None and inst.status == "open" and inst.done_count < inst.required and inst.closes_at > now


def compose_due(session: Session, schedule: Schedule, now: datetime, settle: timedelta = timedelta(0)) -> int:
    """Turn every released ReminderItem into its person's message(s); returns messages queued.
    Items queued less than `settle` ago wait (the other jobs of their minute may still run)."""
    query = (select(ReminderItem).where(ReminderItem.state == "pending", ReminderItem.release_at <= now,
                                        ReminderItem.created_at <= now - settle)
             .order_by(ReminderItem.person_id, ReminderItem.id))  # type: ignore[arg-type]
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # another process composing takes other rows
    items = list(session.exec(query))
    by_person: dict[tuple[str, int], list[ReminderItem]] = {}
    for item in items:
        by_person.setdefault((item.person_id, item.chat_id), []).append(item)
    queued = 0
    for (person_id, chat_id), group in by_person.items():
        queued += _compose(session, schedule, person_id, chat_id, group, now)
    session.flush()
    return queued


def _compose(session: Session, schedule: Schedule, person_id: str, chat_id: int, items: list[ReminderItem],
             now: datetime) -> int:
    instances: dict[int, DutyInstance] = {}
    for item in items:
        inst = instances.get(item.instance_id) or session.get(DutyInstance, item.instance_id)
        if not _is_open(inst, now):
            item.state = "skipped"
            continue
        instances[item.instance_id] = inst
    live = [i for i in items if i.state == "pending"]
    if not live:
        return 0
    if len(instances) == 1:
        inst = next(iter(instances.values()))
        first = live[0]
        payload = reminders.reminder_payload(inst, _duty(session, inst), first.lead)
        row = outbox.enqueue(session, chat_id=chat_id, payload=payload, dedupe_key=first.dedupe_key,
                             priority=outbox.ROUTINE, person_id=person_id)
        _link(live, row)
        return 1 if row is not None else 0
    lines = [Line(inst.id, _duty(session, inst).title, period_text(inst), inst.due_at, inst.done_count,
                  inst.required) for inst in instances.values()]
    queued = 0
    for n, page in enumerate(render(lines, now, schedule.tz), 1):
        payload = outbox.text(page.text, page.buttons)
        payload["instances"] = page.instance_ids
        row = outbox.enqueue(session, chat_id=chat_id, payload=payload, dedupe_key=f"reminders:{live[0].id}:{n}",
                             priority=outbox.ROUTINE, person_id=person_id)
        _link([i for i in live if i.instance_id in page.instance_ids], row)
        queued += row is not None
    return queued


def _link(items: list[ReminderItem], row) -> None:
    for item in items:
        item.state = "sent"
        if row is not None:
            item.outbox_id = row.id


def period_text(inst: DutyInstance) -> str:
    return "" if inst.period_key == inst.duty_id else fmt.period(inst.period_key)


def _duty(session: Session, inst: DutyInstance) -> Duty:
    return session.get(Duty, inst.duty_id) or Duty(id=inst.duty_id, title=inst.duty_id)


def next_release(session: Session) -> datetime | None:
    """When the next pending item is released (the scheduler wakes the composer then)."""
    return session.exec(select(ReminderItem.release_at).where(ReminderItem.state == "pending")
                        .order_by(ReminderItem.release_at).limit(1)).first()  # type: ignore[arg-type]
