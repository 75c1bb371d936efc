"""Driving a callout on: re-calls, escalations and report nudges, from the store, by `tick`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.services import outbox
from bot.services.callouts import reach, render
from bot.services.callouts.answers import follow_up
from bot.services.callouts.attachments import attachment_payload
from bot.services.callouts.board import refresh_board
from bot.services.callouts.keys import ACTIVE_SENDS, key, outbox_by_key
from bot.services.callouts.lookup import chunks, header, targets_of
from bot.services.reminders import enqueue_many
from bot.store.models import Callout, CalloutTarget, Outbox, Person
from bot.texts import callouts as T

log = logging.getLogger(__name__)

POLL = timedelta(seconds=1)  # how soon to look again at a call that is not delivered yet


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
    steppers: dict[int, Stepper] = {}
    by_callout: dict[int, list[CalloutTarget]] = {}
    for target in due:
        by_callout.setdefault(target.callout_id, []).append(target)
    for callout_id, group in by_callout.items():
        stepper = steppers[callout_id] = Stepper(session, session.get(Callout, callout_id), now)
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


class Stepper:
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
        for chunk in chunks(sorted(missing)):
            self.people.update({p.id: p for p in self.s.exec(select(Person).where(col(Person.id).in_(chunk)))})
        keys = [key(self.c.id, t.id, f"call{t.calls_made}") for t in targets if t.calls_made]
        keys += [key(self.c.id, t.id, "form") for t in targets if t.acked_at is not None]
        for chunk in chunks(keys):
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
                target.next_call_at = render.report_due(target, self.policy)
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
        return render.silent_line((t, self.person(t.person_id)) for t in self.path(target)[:-1])

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
        body = render.call_text(self.h, n, self._silent(target))
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
        due = render.report_due(target, self.policy)
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
                    if target.person_id in {p.id for p in reach.resolve_step(self.s, step, root_person, self.now)}]
            start = (max(hits) + 1) if hits else len(chain)
        silent = render.silent_line((t, self.person(t.person_id)) for t in path)
        reached: list[str] = []
        for step in chain[start:]:
            new, notify = [], []
            for p in reach.resolve_step(self.s, step, root_person, self.now):
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
                                   payload=outbox.text(render.notice_text(self.h, silent)),
                                   priority=outbox.CALLOUT, person_id=person.id,
                                   dedupe_key=key(self.c.id, existing.id, f"escalate:{target.id}"))
                reached.append(existing.person_id)
            break
        target.escalated_at = self.now
        target.escalated_to = reached
        target.next_call_at = None
        self.escalations += 1
        log.info("callout %s: %s silent, escalated to %s", self.c.id, target.person_id, reached or "nobody")
