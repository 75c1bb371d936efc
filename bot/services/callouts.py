"""叫应: emergency-warning broadcasts that every responsible leader must answer (有叫有应有记录).

Everything lives in the store, and one function, `tick(session, now)`, moves every callout on from
there, so a restart in the middle of a broadcast resumes it and two workers cannot double a step.

A recipient's timeline (`CalloutTarget`; `next_call_at` is when it needs looking at next):

    call 1 ──ack_within──▶ call 2 ──recall_every──▶ … call 1+recalls ──recall_every──▶ escalate

- escalate: a new target (reason "escalation", escalated_from_id) with calls of its own that name
  who is silent (see below);
- 收到 at any point: `ack` records acked_at (once) and makes the target due now; the worker's next
  step (`follow_up`) drops queued calls, edits the sent ones to 已收到 HH:MM and sends the report
  form; the report is due report_within after the answer and nudged once when overdue
  (bot/services/callout_reports.py).

The waits count from when the previous call was *delivered* (the outbox row's sent_at), not
queued: after downtime or behind a slow Telegram nobody is re-called for a message they could not
have seen. A call that cannot be delivered (no Telegram binding, blocked bot) escalates at once.

Escalation walks the policy's chain (deputy, superior, office or person ids), relative to the
silent recipient who started it. A step naming someone not yet a target adds them as an escalation
target, and the chain stops there until that person is silent too. A step naming someone who
already answered sends them a notice instead (a person is a target once per callout); a step
naming nobody, or only people who are silent themselves, is skipped.

Dedupe keys: callout:<id>:<target>:call<n> | :file | :form | :form<n> (its edits) | :nudge | :lift |
:ack<n> (the edit of call n), callout:<id>:<target>:escalate:<silent target> (notices),
callout:<id>:board:<n>, callout:<id>:summary:<chat>:<n>. Calls, re-calls, escalations, answers and
解除 use priority outbox.CALLOUT and ignore quiet hours; board edits go one notch ahead
(BOARD_PRIORITY) so the office sees the board move while a large broadcast drains, coalesced
(`refresh_board`): one edit in flight, one waiting and rewritten in place. A call made pointless
(answered, lifted) while still queued gets the outbox state "cancelled", which the sender never
claims.

The board is the office's one live message; `callout_records.callout_status` / `callout_records`
are the record (CLI, export). The /warn flow is bot/services/callout_flow.py, recipients
bot/services/callout_people.py, every text bot/texts/callouts.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import case, func, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.services import callout_people, callout_render, ledger, outbox
from bot.services.reminders import enqueue_many
from bot.store import kv
from bot.store.models import AuditLog, Callout, CalloutTarget, Outbox, Person
from bot.texts import callouts as T
from schedules.catalog import CalloutPolicy, Catalog, Level

log = logging.getLogger(__name__)

BOARD_PRIORITY = outbox.CALLOUT - 1
POLL = timedelta(seconds=1)  # how soon to look again at a call that is not delivered yet
BOARD_EVERY = timedelta(seconds=0.25)  # the board chat takes one message a second: no need to render more
MAX_TEXT = 3000
ACTIVE_SENDS = ("pending", "sending")
CANCELLED = "cancelled"  # outbox state for a queued call made pointless by an answer or 解除


class CalloutError(ValueError):
    """A user mistake (unknown level or unit, empty text...): the message says what to fix."""


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------
def policy_snapshot(policy: CalloutPolicy) -> dict:
    """The policy as it is now, durations in seconds, kept on the callout."""
    return {
        "level": policy.level.value,
        "who": {"roles": list(policy.who.roles), "people": list(policy.who.people), "units": list(policy.who.units)},
        "ack_within": policy.ack_within.total_seconds(),
        "recall_every": policy.recall_every.total_seconds(),
        "recalls": policy.recalls,
        "escalate": list(policy.escalate),
        "report_within": policy.report_within.total_seconds(),
        "summary_within": policy.summary_within.total_seconds(),
    }


def parse_level(value: str) -> str:
    level = T.LEVEL_WORDS.get(str(value).strip().lower())
    if level is None:
        raise CalloutError(T.ERR_LEVEL.format(value=value))
    return level


def key(callout_id: int, target_id: int | str, step: str) -> str:
    return f"callout:{callout_id}:{target_id}:{step}"




def outbox_by_key(session: Session, dedupe_key: str) -> Outbox | None:
    return session.exec(select(Outbox).where(Outbox.dedupe_key == dedupe_key)).first()


def unit_names(session: Session, units: Sequence[str]) -> list[str]:
    from bot.store.models import Unit

    out = []
    for uid in units:
        row = session.get(Unit, uid)
        out.append(row.name if row else uid)
    return out


def header(session: Session, callout: Callout) -> dict:
    issuer = session.get(Person, callout.issued_by) if callout.issued_by else None
    return callout_render.header(callout, issuer, unit_names(session, callout.units))


def targets_of(session: Session, callout_id: int) -> list[CalloutTarget]:
    return list(session.exec(select(CalloutTarget).where(CalloutTarget.callout_id == callout_id)
                             .order_by(CalloutTarget.id)))


def people_of(session: Session, targets: Iterable[CalloutTarget]) -> dict[str, Person]:
    ids = {t.person_id for t in targets}
    if not ids:
        return {}
    return {p.id: p for p in session.exec(select(Person).where(col(Person.id).in_(ids)))}


def _audit(session: Session, action: str, person_id: str | None, detail: dict, now: datetime) -> None:
    session.add(AuditLog(at=now, person_id=person_id, action=action, detail=detail))


# ---------------------------------------------------------------------------------------------
# Issuing
# ---------------------------------------------------------------------------------------------
def preview(session: Session, catalog: Catalog, level: str, units: Sequence[str], now: datetime) -> list[Person]:
    """Who a warning of this level for these units would call (the /warn confirmation shows it)."""
    level = parse_level(level)
    policy = catalog.callouts.get(Level(level))
    if policy is None:
        raise CalloutError(T.ERR_NO_POLICY.format(level=level))
    order = {p.id: i for i, p in enumerate(catalog.people)}
    return callout_people.recipients(session, policy_snapshot(policy)["who"], units, now, order)


def issue(session: Session, catalog: Catalog, *, level: str, text: str, now: datetime,
          units: Sequence[str] = (), hazard: str = "", issued_by: str | None = None,
          attachment: dict | None = None, board_chat_id: int | None = None) -> Callout:
    """Record a warning, call every recipient (first calls queued in this transaction) and open the
    board in `board_chat_id`. Units are ids or names; none means park-wide."""
    level = parse_level(level)
    policy = catalog.callouts.get(Level(level))
    if policy is None:
        raise CalloutError(T.ERR_NO_POLICY.format(level=level))
    text = (text or "").strip()
    if not text:
        raise CalloutError(T.ERR_TEXT)
    text = text[:MAX_TEXT]
    unit_ids = []
    for u in units:
        if u.strip() in ("", T.ALL_UNITS):
            continue
        uid = callout_people.resolve_unit(session, u)
        if uid is None:
            raise CalloutError(T.ERR_UNIT.format(value=u))
        if uid not in unit_ids:
            unit_ids.append(uid)
    snapshot = policy_snapshot(policy)
    order = {p.id: i for i, p in enumerate(catalog.people)}
    people = callout_people.recipients(session, snapshot["who"], unit_ids, now, order)
    if not people:
        raise CalloutError(T.ERR_NO_RECIPIENTS)

    callout = Callout(level=level, hazard=hazard.strip(), text=text, units=unit_ids, policy=snapshot,
                      issued_by=issued_by, issued_at=now, attachment=attachment, board_chat_id=board_chat_id)
    session.add(callout)
    session.flush()
    h = header(session, callout)
    ids = _first_calls(session, callout, people, h, now)
    _audit(session, "callout.issue", issued_by, {"callout": callout.id, "level": level, "units": unit_ids,
                                                  "recipients": len(ids)}, now)
    step = _Stepper(session, callout, now, h)
    step.people.update({p.id: p for p in people})
    for p in people:
        if p.telegram_id is None:  # cannot be called: the chain must reach them another way, now
            step.advance(session.get(CalloutTarget, ids[p.id]))
    step.flush()
    session.flush()
    if board_chat_id is not None:
        data, names = board_snapshot(session, callout.id)
        row = outbox.enqueue(session, chat_id=board_chat_id, dedupe_key=f"callout:{callout.id}:board:0",
                             payload=outbox.text(callout_render.board(callout, h, data, names)),
                             priority=BOARD_PRIORITY)
        callout.board_outbox_id = row.id if row else None
        kv.put(session, _board_kv(callout.id), {"n": 0, "last": callout.board_outbox_id, "text": None}, now)
    return callout


def _first_calls(session: Session, callout: Callout, people: Sequence[Person], h: dict, now: datetime) -> dict[str, int]:
    """Insert the recipients with their first call placed, and the calls, in bulk (a broadcast to a
    thousand people should not spend seconds building ORM objects before anyone is called)."""
    wait = timedelta(seconds=callout.policy["ack_within"])
    rows = []
    for p in people:
        called = p.telegram_id is not None
        rows.append({"callout_id": callout.id, "person_id": p.id, "reason": "policy", "escalated_from_id": None,
                     "calls_made": 1 if called else 0, "first_sent_at": now if called else None,
                     "last_called_at": now if called else None, "next_call_at": now + wait if called else now,
                     "acked_at": None, "escalated_at": None, "escalated_to": [], "report_at": None,
                     "report_measures": [], "report_text": ""})
    ids: dict[str, int] = {}
    statement = insert(CalloutTarget).returning(CalloutTarget.id, CalloutTarget.person_id, sort_by_parameter_order=True)
    for chunk in _chunks(rows):
        ids.update({pid: tid for tid, pid in session.execute(statement, chunk)})
    body = callout_render.call_text(h, 1, None)
    messages = []
    for p in people:
        if p.telegram_id is None:
            continue
        tid = ids[p.id]
        common = {"chat_id": p.telegram_id, "person_id": p.id, "priority": outbox.CALLOUT, "created_at": now,
                  "not_before": now, "state": "pending", "attempts": 0}
        messages.append({**common, "dedupe_key": key(callout.id, tid, "call1"),
                         "payload": outbox.text(body, [[outbox.button(T.ACK_BUTTON, f"c:ack:{tid}")]])})
        if callout.attachment:
            messages.append({**common, "dedupe_key": key(callout.id, tid, "file"),
                             "payload": attachment_payload(callout.attachment)})
    for chunk in _chunks(messages):
        session.execute(insert(Outbox), chunk)
    # The sender's commit hook (bot/telegram/sender.py) only sees ORM-added rows; this flag is what
    # it sets for them, so an in-process sender starts on these at commit instead of at its next poll.
    session.info["outbox_added"] = True
    return ids


# ---------------------------------------------------------------------------------------------
# Driving: re-calls, escalations, report nudges
# ---------------------------------------------------------------------------------------------
@dataclass
class TickReport:
    calls: int = 0
    escalations: int = 0
    nudges: int = 0
    boards: int = 0
    looked_at: int = 0
    full: bool = False  # the batch limit was hit: run again at once
    next_due: datetime | None = None  # the earliest next_call_at still ahead (for the worker's sleep)

    def __bool__(self) -> bool:
        return bool(self.calls or self.escalations or self.nudges or self.boards)


def tick(session: Session, now: datetime, *, batch: int = 1000) -> TickReport:
    """Move every active callout on to `now`: place due re-calls, escalate, nudge late reports,
    refresh boards. Safe to run from several processes (row locks on PostgreSQL, dedupe keys)."""
    report = TickReport()
    query = (select(CalloutTarget).join(Callout, Callout.id == CalloutTarget.callout_id)
             .where(CalloutTarget.next_call_at <= now, Callout.lifted_at.is_(None))  # type: ignore[operator,union-attr]
             .order_by(CalloutTarget.next_call_at).limit(batch))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=CalloutTarget)
    due = list(session.exec(query))
    seen = {t.id for t in due}
    due += [t for t in _undeliverable(session, now) if t.id not in seen]
    report.looked_at = len(due)
    report.full = len(due) >= batch
    steppers: dict[int, _Stepper] = {}
    by_callout: dict[int, list[CalloutTarget]] = {}
    for target in due:
        by_callout.setdefault(target.callout_id, []).append(target)
    for callout_id, group in by_callout.items():
        stepper = steppers[callout_id] = _Stepper(session, session.get(Callout, callout_id), now)
        stepper.prefetch(group)
        for target in group:
            stepper.advance(target)
        stepper.flush()
    for stepper in steppers.values():
        report.calls += stepper.calls
        report.escalations += stepper.escalations
        report.nudges += stepper.nudges
    session.flush()
    recent = now - timedelta(days=1)  # a board still moves after 解除: late answers and reports
    for callout in session.exec(select(Callout).where(or_(Callout.lifted_at.is_(None), Callout.lifted_at > recent),  # type: ignore[union-attr]
                                                      Callout.board_outbox_id.is_not(None))):  # type: ignore[union-attr]
        if refresh_board(session, callout, now):
            report.boards += 1
    report.next_due = session.exec(
        select(CalloutTarget.next_call_at).join(Callout, Callout.id == CalloutTarget.callout_id)
        .where(CalloutTarget.next_call_at.is_not(None), Callout.lifted_at.is_(None))  # type: ignore[union-attr]
        .order_by(CalloutTarget.next_call_at).limit(1)).first()
    return report


def _chunks(items: Sequence, size: int = 500):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _undeliverable(session: Session, now: datetime) -> list[CalloutTarget]:
    """Targets whose latest call the sender gave up on (blocked bot, chat gone): they need not
    wait for their next call time, re-calling cannot reach them."""
    rows = session.exec(select(Outbox.dedupe_key).where(Outbox.state == "failed", Outbox.priority == outbox.CALLOUT,
                                                        Outbox.created_at > now - timedelta(days=1),
                                                        col(Outbox.dedupe_key).like("callout:%:call%")))
    out = []
    for dedupe_key in rows:
        try:
            _, cid, tid, step = dedupe_key.split(":")
            n, tid = int(step.removeprefix("call")), int(tid)
        except ValueError:
            continue
        target = session.get(CalloutTarget, tid)
        if (target is not None and target.acked_at is None and target.escalated_at is None
                and target.calls_made == n and target.next_call_at is not None):
            callout = session.get(Callout, target.callout_id)
            if callout is not None and callout.lifted_at is None:
                out.append(target)
    return out


class _Stepper:
    """Advances the targets of one callout at one moment."""

    def __init__(self, session: Session, callout: Callout, now: datetime, h: dict | None = None):
        self.s, self.c, self.now = session, callout, now
        self.policy = callout.policy
        self.h = h or header(session, callout)
        self.people: dict[str, Person] = {}
        self._targets: dict[str, CalloutTarget] | None = None
        self.calls = self.escalations = self.nudges = 0
        self.batch: list[Outbox] = []  # calls queued by this round, written at once by flush()
        self._sent: dict[str, Outbox] = {}  # prefetched rows of the latest calls

    def prefetch(self, targets: Sequence[CalloutTarget]) -> None:
        """Load people and the latest call of each target in a few queries instead of one per target."""
        missing = {t.person_id for t in targets} - set(self.people)
        for chunk in _chunks(sorted(missing)):
            self.people.update({p.id: p for p in self.s.exec(select(Person).where(col(Person.id).in_(chunk)))})
        keys = [key(self.c.id, t.id, f"call{t.calls_made}") for t in targets if t.calls_made]
        keys += [key(self.c.id, t.id, "form") for t in targets if t.acked_at is not None]
        for chunk in _chunks(keys):
            self._sent.update({r.dedupe_key: r for r in self.s.exec(select(Outbox).where(col(Outbox.dedupe_key).in_(chunk)))})

    def flush(self) -> None:
        if self.batch:
            enqueue_many(self.s, self.batch)
            self.batch = []

    def person(self, pid: str) -> Person:
        if pid not in self.people:
            self.people[pid] = self.s.get(Person, pid)
        return self.people[pid]

    def targets(self) -> dict[str, CalloutTarget]:
        if self._targets is None:
            self._targets = {t.person_id: t for t in targets_of(self.s, self.c.id)}
        return self._targets

    def advance(self, target: CalloutTarget) -> None:
        if target.acked_at is not None:
            form = key(self.c.id, target.id, "form")
            if form not in self._sent and outbox_by_key(self.s, form) is None:  # just answered
                follow_up(self.s, self.c, target, self.person(target.person_id), self.now, self.h, self.batch)
                target.next_call_at = callout_render.report_due(target, self.policy)
                return
            self._nudge(target)
            return
        if target.calls_made == 0:
            if self.person(target.person_id).telegram_id is None:
                self.escalate(target)  # cannot be called at all: the chain must reach them another way
            else:
                self._call(target, 1)
            return
        last_key = key(self.c.id, target.id, f"call{target.calls_made}")
        last = self._sent.get(last_key) or outbox_by_key(self.s, last_key)
        if last is not None and last.state in ACTIVE_SENDS:
            target.next_call_at = self.now + POLL
            return
        if last is None or last.state != "sent":
            self.escalate(target)  # undeliverable (blocked the bot, chat gone): re-calling cannot help
            return
        wait = self.policy["ack_within"] if target.calls_made == 1 else self.policy["recall_every"]
        due = (last.sent_at or target.last_called_at or self.now) + timedelta(seconds=wait)
        if due > self.now:
            target.next_call_at = due
            return
        if target.calls_made < 1 + int(self.policy["recalls"]):
            self._call(target, target.calls_made + 1)
        else:
            self.escalate(target)

    def _silent(self, target: CalloutTarget) -> str | None:
        """For an escalation target: the line naming who is silent; None for a recipient."""
        if target.reason != "escalation":
            return None
        return callout_render.silent_line((t, self.person(t.person_id)) for t in self.path(target)[:-1])

    def path(self, target: CalloutTarget) -> list[CalloutTarget]:
        """The escalation path from the silent recipient who started it down to `target`."""
        path = [target]
        seen = {target.id}
        while path[0].escalated_from_id is not None and path[0].escalated_from_id not in seen:
            parent = self.s.get(CalloutTarget, path[0].escalated_from_id)
            if parent is None:
                break
            seen.add(parent.id)
            path.insert(0, parent)
        return path

    def _call(self, target: CalloutTarget, n: int) -> None:
        person = self.person(target.person_id)
        body = callout_render.call_text(self.h, n, self._silent(target))
        payload = outbox.text(body, [[outbox.button(T.ACK_BUTTON, f"c:ack:{target.id}")]])
        self.batch.append(Outbox(chat_id=person.telegram_id, payload=payload, priority=outbox.CALLOUT,
                                 dedupe_key=key(self.c.id, target.id, f"call{n}"), person_id=person.id,
                                 created_at=self.now, not_before=self.now))
        if n == 1 and self.c.attachment:
            self.batch.append(Outbox(chat_id=person.telegram_id, payload=attachment_payload(self.c.attachment),
                                     priority=outbox.CALLOUT, dedupe_key=key(self.c.id, target.id, "file"),
                                     person_id=person.id, created_at=self.now, not_before=self.now))
        target.calls_made = n
        target.first_sent_at = target.first_sent_at or self.now
        target.last_called_at = self.now
        wait = self.policy["ack_within"] if n == 1 else self.policy["recall_every"]
        target.next_call_at = self.now + timedelta(seconds=wait)
        self.calls += 1

    def _nudge(self, target: CalloutTarget) -> None:
        due = callout_render.report_due(target, self.policy)
        if target.report_at is not None or due is None:
            target.next_call_at = None
            return
        if due > self.now:
            target.next_call_at = due
            return
        person = self.person(target.person_id)
        if person.telegram_id is not None:
            from bot.texts import fmt

            body = T.REPORT_NUDGE.format(deadline=fmt.clock(due), **self.h)
            outbox.enqueue(self.s, chat_id=person.telegram_id, payload=outbox.text(body), priority=outbox.CALLOUT,
                           dedupe_key=key(self.c.id, target.id, "nudge"), person_id=person.id)
            self.nudges += 1
        target.next_call_at = None

    def escalate(self, target: CalloutTarget) -> None:
        chain: list[str] = list(self.policy.get("escalate") or [])
        path = self.path(target)
        root = path[0]
        root_person = self.person(root.person_id)
        on_path = {t.person_id for t in path}
        start = 0
        if target is not root:
            hits = [i for i, step in enumerate(chain)
                    if target.person_id in {p.id for p in callout_people.resolve_step(self.s, step, root_person, self.now)}]
            start = (max(hits) + 1) if hits else len(chain)
        silent = callout_render.silent_line((t, self.person(t.person_id)) for t in path)
        reached: list[str] = []
        for step in chain[start:]:
            new, notify = [], []
            for p in callout_people.resolve_step(self.s, step, root_person, self.now):
                if p.id in on_path:
                    continue
                self.people.setdefault(p.id, p)
                existing = self.targets().get(p.id)
                if existing is None:
                    new.append(p)
                elif existing.acked_at is not None:
                    notify.append(existing)
            if not (new or notify):
                continue
            for p in new:
                t = CalloutTarget(callout_id=self.c.id, person_id=p.id, reason="escalation",
                                  escalated_from_id=target.id, next_call_at=self.now)
                try:
                    with self.s.begin_nested():
                        self.s.add(t)
                        self.s.flush()
                except IntegrityError:  # another process escalated to them a moment ago: they are being called
                    reached.append(p.id)
                    continue
                self.targets()[p.id] = t
                reached.append(p.id)
                self.advance(t)
            for existing in notify:
                person = self.person(existing.person_id)
                if person.telegram_id is not None:
                    outbox.enqueue(self.s, chat_id=person.telegram_id,
                                   payload=outbox.text(callout_render.notice_text(self.h, silent)),
                                   priority=outbox.CALLOUT, person_id=person.id,
                                   dedupe_key=key(self.c.id, existing.id, f"escalate:{target.id}"))
                reached.append(existing.person_id)
            break
        target.escalated_at = self.now
        target.escalated_to = reached
        target.next_call_at = None
        self.escalations += 1
        log.info("callout %s: %s silent, escalated to %s", self.c.id, target.person_id, reached or "nobody")


def attachment_payload(attachment: dict) -> dict:
    """The outbox payload of a warning's photo or document (a Telegram file id or a stored file)."""
    kind = attachment.get("kind", "document")
    method = "sendPhoto" if kind == "photo" else "sendDocument"
    payload: dict = {"method": method, "caption": attachment.get("caption", "")}
    if attachment.get("file_id"):
        payload["file_id"] = attachment["file_id"]
    if attachment.get("path"):
        payload["path"] = attachment["path"]
    if attachment.get("filename"):
        payload["filename"] = attachment["filename"]
    return payload


def attachment_from_file(path: str | Path, data_dir: Path) -> dict:
    """Copy a file given on the command line under DATA_DIR (the bot may run elsewhere in the same
    volume, and the original may be deleted), content-addressed."""
    import hashlib
    import shutil

    src = Path(path)
    if not src.is_file():
        raise CalloutError(T.ERR_FILE.format(value=path))
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    rel = Path("callouts") / f"{digest}{src.suffix.lower()}"
    dest = data_dir / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        shutil.copyfile(src, dest)
    kind = "photo" if src.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp") else "document"
    return {"kind": kind, "path": str(rel), "filename": src.name}


# ---------------------------------------------------------------------------------------------
# Answering 收到
# ---------------------------------------------------------------------------------------------
@dataclass
class AckResult:
    status: str  # acked | again | not_yours | unknown
    target: CalloutTarget | None = None
    callout: Callout | None = None


def ack(session: Session, target_id: int, person_id: str | None, now: datetime) -> AckResult:
    """Record 收到 once: the first press wins, later presses change nothing.

    Only the answer itself is written here (the handler answers the tap right after): the calls'
    edits to 已收到 and the report form are the worker's next step for this target (next_call_at =
    now), so presses pouring in are not slowed by them and a crash between the two loses nothing."""
    target = session.get(CalloutTarget, target_id)
    if target is None:
        return AckResult("unknown")
    callout = session.get(Callout, target.callout_id)
    if person_id is None or target.person_id != person_id:
        return AckResult("not_yours", target, callout)
    done = session.exec(update(CalloutTarget)  # type: ignore[call-overload]
                        .where(CalloutTarget.id == target_id, CalloutTarget.acked_at.is_(None))  # type: ignore[union-attr]
                        .values(acked_at=now, next_call_at=None if callout.lifted_at else now)
                        .execution_options(synchronize_session=False))
    if done.rowcount == 0:
        session.refresh(target)
        return AckResult("again", target, callout)
    session.refresh(target)
    ledger.record(session, "ack", target, now)
    if callout.lifted_at is not None:  # the worker no longer looks at a lifted callout: do it now
        follow_up(session, callout, target, session.get(Person, target.person_id), now)
    _audit(session, "callout.ack", person_id, {"callout": callout.id, "target": target.id}, now)
    return AckResult("acked", target, callout)


def follow_up(session: Session, callout: Callout, target: CalloutTarget, person: Person, now: datetime,
              h: dict | None = None, batch: list[Outbox] | None = None) -> None:
    """After 收到: queued calls are dropped, the ones out are edited to 已收到 HH:MM (their button
    removed), and the report form is sent (while the warning is active)."""
    keys = [key(callout.id, target.id, f"call{n}") for n in range(1, target.calls_made + 1)]
    if keys:  # not out yet: nobody needs them any more (a row the sender claims meanwhile goes out)
        session.exec(update(Outbox).where(col(Outbox.dedupe_key).in_(keys), Outbox.state == "pending")  # type: ignore[call-overload]
                     .values(state=CANCELLED).execution_options(synchronize_session=False))
    rows = {r.dedupe_key: r for r in session.exec(select(Outbox).where(col(Outbox.dedupe_key).in_(keys))
                                                  .execution_options(populate_existing=True))} if keys else {}
    for n, k in enumerate(keys, start=1):
        row = rows.get(k)
        if row is not None and row.state in ("sent", "sending"):
            edit = Outbox(chat_id=row.chat_id, priority=outbox.CALLOUT, person_id=person.id, created_at=now,
                          not_before=now, dedupe_key=key(callout.id, target.id, f"ack{n}"),
                          payload=outbox.edit(row.id, callout_render.acked_text(row.payload.get("text", ""),
                                                                                target.acked_at or now), []))
            if batch is not None:
                batch.append(edit)
            else:
                outbox.enqueue(session, chat_id=edit.chat_id, payload=edit.payload, dedupe_key=edit.dedupe_key,
                               priority=edit.priority, person_id=edit.person_id)
    if callout.lifted_at is None and person.telegram_id is not None:
        from bot.services import callout_reports

        callout_reports.open_form(session, callout, target, person, now, h=h, batch=batch)


# ---------------------------------------------------------------------------------------------
# The board
# ---------------------------------------------------------------------------------------------
def _board_kv(callout_id: int) -> str:
    return f"callout:{callout_id}:board"


def key_range(callout_id: int) -> tuple[str, str]:
    """Bounds of this callout's dedupe keys: `lo <= key < hi` uses the unique index on both
    databases, where LIKE 'callout:5:%' would not (case-insensitive LIKE, collations)."""
    return f"callout:{callout_id}:", f"callout:{callout_id};"  # ';' sorts right after ':'


def delivered_first_calls(session: Session, callout_id: int) -> int:
    lo, hi = key_range(callout_id)
    return session.exec(select(func.count()).select_from(Outbox).where(
        Outbox.dedupe_key >= lo, Outbox.dedupe_key < hi, Outbox.state == "sent",
        col(Outbox.dedupe_key).like("%:call1"))).one()


class _Name(NamedTuple):
    name: str


def board_snapshot(session: Session, callout_id: int, delivered: int | None = None,
                   max_names: int = 40) -> tuple[callout_render.BoardData, dict[str, _Name]]:
    """The board's figures from aggregates, plus the first silent targets and the names it shows:
    a few small queries whatever the size of the callout (it is rendered while a thousand
    answers come in)."""
    t = CalloutTarget
    unanswered = t.acked_at.is_(None)  # type: ignore[union-attr]
    total, sent, acked, recalling, escalated, reported, m1, m2, m3, m4 = session.exec(
        select(func.count(), func.count(case((t.calls_made > 0, 1))), func.count(t.acked_at),
               func.count(case(((t.calls_made >= 2) & unanswered & t.escalated_at.is_(None), 1))),  # type: ignore[union-attr]
               func.count(t.escalated_at), func.count(t.report_at), func.max(t.last_called_at),
               func.max(t.acked_at), func.max(t.escalated_at), func.max(t.report_at))
        .where(t.callout_id == callout_id)).one()
    silent = list(session.exec(select(t).where(t.callout_id == callout_id, unanswered).order_by(t.id).limit(max_names)))
    ids = {x.person_id for x in silent} | {p for x in silent for p in x.escalated_to or []}
    names = {pid: _Name(name) for pid, name in session.exec(select(Person.id, Person.name)
                                                              .where(col(Person.id).in_(ids)))} if ids else {}
    moments = [_aware(m) for m in (m1, m2, m3, m4) if m is not None]
    last = max(moments) if moments else None
    data = callout_render.BoardData(
        counts={"total": total, "sent": sent, "acked": acked, "recalling": recalling, "escalated": escalated,
                "reported": reported},
        silent=silent, silent_total=total - acked, last_event=last, delivered=delivered)
    return data, names


def _aware(value: datetime | str) -> datetime:
    """MAX() of a UTC column may come back without the column's type (naive, or a string on
    SQLite): make it an aware UTC datetime again."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def refresh_board(session: Session, callout: Callout, now: datetime) -> bool:
    """Edit the board when what it shows changed. Edits are coalesced: while the latest board edit
    has not been picked up by the sender, it is rewritten in place (the sender claims and reads a
    row in one transaction and only claims `pending` rows, so a rewrite is either seen or refused);
    so at most one edit is in flight and one waiting, whatever the rate of answers."""
    if callout.board_outbox_id is None:
        return False
    state = kv.get(session, _board_kv(callout.id)) or {"n": 0, "last": callout.board_outbox_id, "text": None}
    first = session.get(Outbox, callout.board_outbox_id)
    if first is None or first.state in ("failed", CANCELLED):
        return False
    if state.get("at") and now - datetime.fromisoformat(state["at"]) < BOARD_EVERY:
        return False  # rendered a moment ago; the worker comes back within half a second
    data, names = board_snapshot(session, callout.id, delivered_first_calls(session, callout.id))
    text = callout_render.board(callout, header(session, callout), data, names)
    shown = state["text"] if state.get("text") is not None else first.payload.get("text")
    if text == shown:
        return False
    state["at"] = now.isoformat()
    last_id = state.get("last")
    if last_id is not None:
        payload = outbox.text(text) if last_id == first.id else outbox.edit(first.id, text)
        done = session.exec(update(Outbox).where(Outbox.id == last_id, Outbox.state == "pending")  # type: ignore[call-overload]
                            .values(payload=payload).execution_options(synchronize_session=False))
        if done.rowcount:
            kv.put(session, _board_kv(callout.id), {**state, "text": text}, now)
            return True
    n = int(state["n"]) + 1
    row = outbox.enqueue(session, chat_id=callout.board_chat_id, payload=outbox.edit(first.id, text),
                         priority=BOARD_PRIORITY, dedupe_key=f"callout:{callout.id}:board:{n}")
    kv.put(session, _board_kv(callout.id), {**state, "n": n, "last": row.id if row else last_id, "text": text}, now)
    return row is not None


# ---------------------------------------------------------------------------------------------
# Queries and lifting
# ---------------------------------------------------------------------------------------------
def active(session: Session) -> list[Callout]:
    return list(session.exec(select(Callout).where(Callout.lifted_at.is_(None)).order_by(Callout.id)))  # type: ignore[union-attr]


def get(session: Session, callout_id: int) -> Callout:
    callout = session.get(Callout, callout_id)
    if callout is None:
        raise CalloutError(T.ERR_NOT_FOUND.format(cid=callout_id))
    return callout


def lift(session: Session, callout_id: int, *, now: datetime, lifted_by: str | None = None) -> Callout:
    """End a warning: 解除 to every target, queued calls dropped, the office gets the summary."""
    from bot.texts import fmt

    callout = get(session, callout_id)
    if callout.lifted_at is not None:
        raise CalloutError(T.ERR_LIFTED.format(cid=callout_id, clock=fmt.moment(callout.lifted_at)))
    callout.lifted_at, callout.lifted_by = now, lifted_by
    targets = targets_of(session, callout.id)
    people = people_of(session, targets)
    h = header(session, callout)
    keys = [key(callout.id, t.id, f"call{n}") for t in targets for n in range(1, t.calls_made + 1)]
    for chunk in range(0, len(keys), 500):
        session.exec(update(Outbox).where(col(Outbox.dedupe_key).in_(keys[chunk:chunk + 500]),  # type: ignore[call-overload]
                                          Outbox.state == "pending").values(state=CANCELLED)
                     .execution_options(synchronize_session=False))
    for t in targets:
        t.next_call_at = None
        person = people.get(t.person_id)
        if person is None or person.telegram_id is None or t.calls_made == 0:
            continue
        extra = T.LIFT_EXTRA_REPORT if t.acked_at is not None and t.report_at is None else ""
        body = T.LIFT.format(clock=fmt.clock(now), extra=extra, **h).rstrip()
        outbox.enqueue(session, chat_id=person.telegram_id, payload=outbox.text(body), priority=outbox.CALLOUT,
                       dedupe_key=key(callout.id, t.id, "lift"), person_id=person.id)
    for chat_id in summary_chats(session, callout):
        for i, body in enumerate(callout_render.summary(callout, h, targets, people)):
            outbox.enqueue(session, chat_id=chat_id, payload=outbox.text(body), priority=outbox.INTERACTIVE,
                           dedupe_key=f"callout:{callout.id}:summary:{chat_id}:{i}")
    _audit(session, "callout.lift", lifted_by, {"callout": callout.id}, now)
    session.flush()
    refresh_board(session, callout, now)
    return callout


def summary_chats(session: Session, callout: Callout) -> list[int]:
    """Who gets the closing summary: the board's chat, or the office when there is no board."""
    if callout.board_chat_id is not None:
        return [callout.board_chat_id]
    return [p.telegram_id for p in session.exec(select(Person).where(Person.is_office.is_(True),  # type: ignore[attr-defined]
                                                                      Person.retired_at.is_(None)))  # type: ignore[union-attr]
            if p.telegram_id is not None]
