"""The 叫应记录: who was called, when they answered, what they reported — as data.

`callout_records(session, start, end)` is what the assessment export writes to its 叫应记录 sheet:
one dict per recipient (escalation targets included) of every callout issued in [start, end),
ordered by callout then target. Keys:

    callout_id      int
    level           "red" | "orange" | "yellow" | "blue"
    level_name      "红色" …
    hazard          str (暴雨, 台风 …; "" when not given)
    text            the warning's text
    units           list of unit ids ([] = park-wide)
    issued_at       datetime (aware, UTC)
    issued_by       person id or None (CLI)
    lifted_at       datetime | None
    target_id       int
    person_id       str
    person_name     str
    unit            the person's unit id
    position        str
    reason          "policy" (a recipient) | "escalation"
    escalated_from  person id whose silence added this target, or None
    calls_made      int (1 = only the first call; 0 = could not be called)
    first_sent_at   datetime | None  (when the first call was placed)
    delivered_at    datetime | None  (when Telegram accepted the first call)
    acked_at        datetime | None
    ack_seconds     float | None     (acked_at − first_sent_at)
    recalled        bool (needed at least one re-call)
    escalated_at    datetime | None
    escalated_to    list of person names the silence went to
    report_due      datetime | None  (acked_at + report_within)
    report_at       datetime | None
    report_late     bool
    measures        list[str] (已停工, 已转移 35 人 …)
    report_text     str
    photos          int (files sent with the report)

Datetimes are aware UTC; format them for people with bot.texts.fmt (Asia/Shanghai).
`callout_status` is the same per callout with ISO 8601 +08:00 strings, for `dutybot callout status`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.services.callouts import render
from bot.services.callouts.keys import key, key_range
from bot.services.callouts.lookup import get, people_of, targets_of
from bot.store.models import Callout, CalloutTarget, Download, Outbox
from bot.texts import fmt


def _photos(session: Session, target_ids: list[int]) -> dict[int, int]:
    if not target_ids:
        return {}
    rows = session.exec(select(Download.callout_target_id, func.count()).where(
        col(Download.callout_target_id).in_(target_ids)).group_by(Download.callout_target_id))
    return dict(rows.all())


def _delivered(session: Session, callout_id: int, targets: list[CalloutTarget]) -> dict[int, datetime | None]:
    keys = {key(callout_id, t.id, "call1"): t.id for t in targets if t.calls_made}
    lo, hi = key_range(callout_id)
    rows = session.exec(select(Outbox.dedupe_key, Outbox.sent_at).where(
        Outbox.dedupe_key >= lo, Outbox.dedupe_key < hi, col(Outbox.dedupe_key).like("%:call1")))
    return {keys[k]: sent_at for k, sent_at in rows if k in keys}


def rows_for(session: Session, callout: Callout) -> list[dict]:
    targets = targets_of(session, callout.id)
    people = people_of(session, targets)
    by_id = {t.id: t for t in targets}
    photos = _photos(session, [t.id for t in targets])
    delivered = _delivered(session, callout.id, targets)
    out = []
    for t in targets:
        p = people.get(t.person_id)
        ack_s = ((t.acked_at - t.first_sent_at).total_seconds()
                 if t.acked_at is not None and t.first_sent_at is not None else None)
        parent = by_id.get(t.escalated_from_id) if t.escalated_from_id else None
        out.append({
            "callout_id": callout.id, "level": callout.level,
            "level_name": render.level_name(callout.level), "hazard": callout.hazard,
            "text": callout.text, "units": list(callout.units or []), "issued_at": callout.issued_at,
            "issued_by": callout.issued_by, "lifted_at": callout.lifted_at,
            "target_id": t.id, "person_id": t.person_id, "person_name": p.name if p else t.person_id,
            "unit": p.unit_id if p else "", "position": p.position if p else "",
            "reason": t.reason, "escalated_from": parent.person_id if parent else None,
            "calls_made": t.calls_made, "first_sent_at": t.first_sent_at, "delivered_at": delivered.get(t.id),
            "acked_at": t.acked_at, "ack_seconds": ack_s, "recalled": t.calls_made >= 2,
            "escalated_at": t.escalated_at,
            "escalated_to": [people[x].name if x in people else x for x in t.escalated_to or []],
            "report_due": render.report_due(t, callout.policy), "report_at": t.report_at,
            "report_late": render.report_late(t, callout.policy),
            "measures": list(t.report_measures or []) if t.report_at else [],
            "report_text": t.report_text if t.report_at else "",
            "photos": photos.get(t.id, 0),
        })
    return out


def callout_records(session: Session, start: datetime, end: datetime) -> list[dict]:
    """Per-recipient rows of every callout issued in [start, end) (see the module docstring)."""
    callouts = session.exec(select(Callout).where(Callout.issued_at >= start, Callout.issued_at < end)
                            .order_by(Callout.issued_at, Callout.id))
    return [row for c in callouts for row in rows_for(session, c)]


def _iso(value: datetime | None) -> str | None:
    return fmt.local(value).isoformat(timespec="seconds") if value else None


def callout_status(session: Session, callout_id: int) -> dict:
    """One callout and its recipients, times as ISO 8601 in +08:00 (for the CLI and JSON)."""
    callout = get(session, callout_id)
    rows = rows_for(session, callout)
    counts = render.counts(targets_of(session, callout.id))
    return {
        "id": callout.id, "level": callout.level, "hazard": callout.hazard, "text": callout.text,
        "units": list(callout.units or []), "issued_at": _iso(callout.issued_at), "issued_by": callout.issued_by,
        "lifted_at": _iso(callout.lifted_at), "counts": counts, "policy": callout.policy,
        "targets": [{
            "person": r["person_name"], "person_id": r["person_id"], "unit": r["unit"], "reason": r["reason"],
            "escalated_from": r["escalated_from"], "first_sent_at": _iso(r["first_sent_at"]),
            "delivered_at": _iso(r["delivered_at"]), "calls_made": r["calls_made"], "acked_at": _iso(r["acked_at"]),
            "ack_seconds": r["ack_seconds"], "escalated_at": _iso(r["escalated_at"]),
            "escalated_to": r["escalated_to"], "report_at": _iso(r["report_at"]), "report_late": r["report_late"],
            "measures": r["measures"], "report_text": r["report_text"], "photos": r["photos"],
        } for r in rows],
    }
