"""The substantive answer to a 叫应 (落实情况报告): one-tap measures, free text, photos.

After 收到 the person gets a form (measures as buttons: 已停工, 已转移 N 人, 已封控, 已巡查, 其他,
and 提交报告). While it is open, text and photos the person sends go into it (the callout
handler takes them before any other handler). The draft lives on the CalloutTarget itself
(report_measures, report_text; report_at stays empty until 提交) plus a small KeyValue row
`callout:draft:<person id>` naming the open target and what the bot asked last; photos become
Download rows with callout_target_id, fetched and chained as evidence by the evidence worker.
提交 sets report_at once and chains the report in the ledger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.services import evidence, ledger, outbox
from bot.services.callouts import render
from bot.services.callouts.keys import CANCELLED, key
from bot.services.callouts.lookup import header
from bot.store import kv
from bot.store.models import AuditLog, Callout, CalloutTarget, Download, Evidence, Person
from bot.texts import callouts as T

MEASURE_ROWS = (("stop", "seal"), ("evac", "patrol"), ("other",))
MAX_REPORT_TEXT = 4000


def draft_key(person_id: str) -> str:
    return f"callout:draft:{person_id}"


@dataclass
class ReportResult:
    status: str  # ok | asked | submitted | already | empty | closed | not_yours | unknown
    reply: str = ""
    target: CalloutTarget | None = None


def photo_count(session: Session, target_id: int) -> int:
    """Files of the report: stored ones plus those still being fetched."""
    stored = session.exec(select(func.count()).select_from(Evidence).where(Evidence.callout_target_id == target_id)).one()
    fetching = session.exec(select(func.count()).select_from(Download).where(
        Download.callout_target_id == target_id, Download.state != "done")).one()
    return stored + fetching


def _queue_file(session: Session, target: CalloutTarget, attachment: dict, now: datetime) -> None:
    """As evidence.schedule does for check-ins: fetch it once, or reuse the stored copy."""
    unique = attachment.get("file_unique_id") or attachment["file_id"]
    if session.exec(select(Evidence.id).where(Evidence.tg_file_unique_id == unique,
                                              Evidence.callout_target_id == target.id)).first() is not None:
        return
    stored = session.exec(select(Evidence).where(Evidence.tg_file_unique_id == unique).order_by(Evidence.id)).first()
    if stored is not None:
        evidence.add_evidence(session, None, attachment, stored.sha256, stored.path, stored.size,
                              evidence.ImageInfo(stored.width, stored.height, stored.exif_time), now,
                              callout_target_id=target.id)
        return
    # Download.tg_file_unique_id is unique: the same file already queued for a check-in gets a
    # key of its own here (file_unique_ids never contain ':').
    taken = session.exec(select(Download).where(Download.tg_file_unique_id == unique)).first()
    if taken is not None and taken.callout_target_id == target.id:
        return
    key_ = unique if taken is None else f"{unique}:c{target.id}"
    if key_ != unique and session.exec(select(Download.id).where(Download.tg_file_unique_id == key_)).first():
        return
    try:
        with session.begin_nested():
            session.add(Download(callout_target_id=target.id, tg_file_id=attachment["file_id"],
                                 tg_file_unique_id=key_, mime=attachment.get("mime") or "", next_try_at=now))
            session.flush()
    except IntegrityError:
        pass  # queued concurrently (a redelivered update)


def _evac_measure(measures: list[str]) -> str | None:
    return next((m for m in measures if m.startswith(T.MEASURES["evac"])), None)


def form_buttons(target: CalloutTarget) -> list[list[dict]]:
    rows = []
    for row in MEASURE_ROWS:
        buttons = []
        for code in row:
            label = T.MEASURES[code]
            chosen = _evac_measure(target.report_measures) if code == "evac" else (
                label if label in target.report_measures else None)
            if code == "evac" and not chosen:
                label = T.MEASURE_EVAC.format(n="N")
            buttons.append(outbox.button(f"✓ {chosen}" if chosen else label, f"c:m:{target.id}:{code}"))
        rows.append(buttons)
    rows.append([outbox.button(T.REPORT_SUBMIT_BUTTON, f"c:rs:{target.id}")])
    return rows


def open_form(session: Session, callout: Callout, target: CalloutTarget, person: Person, now: datetime,
              h: dict | None = None, batch: list[outbox.Outbox] | None = None) -> None:
    """Ask for the report (the step after 收到). With `batch`, the message is added to it for the
    caller to write with others; the draft then finds its form by dedupe key."""
    body = render.report_form(h or header(session, callout), target, callout.policy,
                                      photo_count(session, target.id))
    payload = outbox.text(body, form_buttons(target))
    form_key = key(callout.id, target.id, "form")
    form_id = None
    if batch is not None:
        batch.append(outbox.Outbox(chat_id=person.telegram_id, payload=payload, priority=outbox.CALLOUT,
                                   dedupe_key=form_key, person_id=person.id, created_at=now, not_before=now))
    else:
        row = outbox.enqueue(session, chat_id=person.telegram_id, payload=payload, priority=outbox.CALLOUT,
                             dedupe_key=form_key, person_id=person.id)
        form_id = row.id if row else None
    kv.put(session, draft_key(person.id), {"target": target.id, "form": form_id, "edits": 0, "awaiting": None}, now)


def _load(session: Session, target_id: int, person_id: str | None) -> tuple[ReportResult | None, CalloutTarget | None,
                                                                              Callout | None]:
    target = session.get(CalloutTarget, target_id)
    if target is None:
        return ReportResult("unknown", T.ACK_UNKNOWN), None, None
    if person_id is None or target.person_id != person_id:
        return ReportResult("not_yours", T.ACK_NOT_YOURS), None, None
    callout = session.get(Callout, target.callout_id)
    if target.report_at is not None:
        from bot.texts import fmt

        return ReportResult("already", T.REPORT_ALREADY.format(clock=fmt.clock(target.report_at)), target), None, None
    return None, target, callout


def _refresh_form(session: Session, callout: Callout, target: CalloutTarget, now: datetime, done: bool = False) -> None:
    draft = kv.get(session, draft_key(target.person_id)) or {}
    if draft.get("target") != target.id:
        draft = {}  # the person's open draft is another warning's
    form_id = draft.get("form")
    if form_id is None:
        row = session.exec(select(outbox.Outbox).where(outbox.Outbox.dedupe_key == key(callout.id, target.id, "form"))).first()
        form_id = row.id if row else None
    form = session.get(outbox.Outbox, form_id) if form_id is not None else None
    if form is None or form.state in ("failed", CANCELLED):
        return
    h = header(session, callout)
    photos = photo_count(session, target.id)
    if done:
        body, buttons = render.report_done(h, target, callout.policy, photos), []
    else:
        body, buttons = render.report_form(h, target, callout.policy, photos), form_buttons(target)
    n = int(draft.get("edits", 0)) + 1
    step = "formdone" if done else (f"form{n}" if draft else f"form@{int(now.timestamp() * 1e6)}")
    outbox.enqueue(session, chat_id=form.chat_id, payload=outbox.edit(form_id, body, buttons),
                   priority=outbox.CALLOUT, person_id=target.person_id, dedupe_key=key(callout.id, target.id, step))
    if draft:
        draft["edits"] = n
        kv.put(session, draft_key(target.person_id), draft, now)


def _set_awaiting(session: Session, target: CalloutTarget, awaiting: str | None, now: datetime) -> None:
    draft = kv.get(session, draft_key(target.person_id)) or {"target": target.id, "form": None, "edits": 0}
    draft["target"], draft["awaiting"] = target.id, awaiting
    kv.put(session, draft_key(target.person_id), draft, now)


def toggle_measure(session: Session, target_id: int, person_id: str | None, code: str, now: datetime) -> ReportResult:
    refused, target, callout = _load(session, target_id, person_id)
    if refused:
        return refused
    if code not in T.MEASURES:
        return ReportResult("unknown", T.ACK_UNKNOWN, target)
    measures = list(target.report_measures or [])
    reply, status = "", "ok"
    if code == "evac":
        current = _evac_measure(measures)
        if current:
            measures.remove(current)
        else:
            _set_awaiting(session, target, "evac", now)
            return ReportResult("asked", T.REPORT_ASK_EVAC, target)
    else:
        label = T.MEASURES[code]
        if label in measures:
            measures.remove(label)
        else:
            measures.append(label)
            if code == "other":
                _set_awaiting(session, target, "other", now)
                reply, status = T.REPORT_ASK_OTHER, "asked"
    target.report_measures = measures
    session.add(target)
    _refresh_form(session, callout, target, now)
    return ReportResult(status, reply, target)


def open_draft(session: Session, person_id: str) -> tuple[dict, CalloutTarget, Callout] | None:
    """The report this person is filling in, if any (only while the warning is active)."""
    draft = kv.get(session, draft_key(person_id))
    if not draft:
        return None
    target = session.get(CalloutTarget, draft.get("target"))
    callout = session.get(Callout, target.callout_id) if target else None
    if target is None or target.report_at is not None or callout is None or callout.lifted_at is not None:
        return None
    return draft, target, callout


def add_text(session: Session, person_id: str, text: str, now: datetime) -> ReportResult | None:
    """Put a text message into the open report; None when no report is open (not ours)."""
    found = open_draft(session, person_id)
    if found is None:
        return None
    draft, target, callout = found
    text = (text or "").strip()
    reply = T.REPORT_NOTED_TEXT
    if draft.get("awaiting") == "evac":
        number = re.search(r"\d+", text)
        if number:
            measures = [m for m in target.report_measures or [] if not m.startswith(T.MEASURES["evac"])]
            target.report_measures = measures + [T.MEASURE_EVAC.format(n=int(number.group()))]
            rest = (text[:number.start()] + text[number.end():]).strip(" 人，,。")
            text = rest
            draft["awaiting"] = None
            kv.put(session, draft_key(person_id), draft, now)
        else:
            reply = T.REPORT_ASK_EVAC_AGAIN
    elif draft.get("awaiting"):
        draft["awaiting"] = None
        kv.put(session, draft_key(person_id), draft, now)
    if text:
        joined = f"{target.report_text}\n{text}" if target.report_text else text
        target.report_text = joined[:MAX_REPORT_TEXT]
    session.add(target)
    _refresh_form(session, callout, target, now)
    return ReportResult("ok", reply, target)


def add_photo(session: Session, person_id: str, attachment: dict, now: datetime,
              caption: str = "") -> ReportResult | None:
    """Attach a photo or document (file_id, file_unique_id, mime…) to the open report; None when
    no report is open (not ours)."""
    found = open_draft(session, person_id)
    if found is None:
        return None
    _draft, target, callout = found
    _queue_file(session, target, attachment, now)
    if caption.strip():
        add_text(session, person_id, caption, now)
    else:
        _refresh_form(session, callout, target, now)
    return ReportResult("ok", T.REPORT_NOTED_PHOTO.format(n=photo_count(session, target.id)), target)


def submit(session: Session, target_id: int, person_id: str | None, now: datetime) -> ReportResult:
    refused, target, callout = _load(session, target_id, person_id)
    if refused:
        return refused
    if not target.report_measures and not target.report_text.strip() and not photo_count(session, target.id):
        return ReportResult("empty", T.REPORT_EMPTY, target)
    done = session.exec(update(CalloutTarget)  # type: ignore[call-overload]
                        .where(CalloutTarget.id == target_id, CalloutTarget.report_at.is_(None))  # type: ignore[union-attr]
                        .values(report_at=now, next_call_at=None).execution_options(synchronize_session=False))
    session.refresh(target)
    if done.rowcount == 0:
        from bot.texts import fmt

        return ReportResult("already", T.REPORT_ALREADY.format(clock=fmt.clock(target.report_at)), target)
    ledger.record(session, "report", target, now)
    nudge = session.exec(select(outbox.Outbox).where(outbox.Outbox.dedupe_key == key(callout.id, target.id, "nudge"),
                                                     outbox.Outbox.state == "pending")).first()
    if nudge is not None:
        nudge.state = CANCELLED
    _refresh_form(session, callout, target, now, done=True)
    kv.put(session, draft_key(target.person_id), None, now)
    session.add(AuditLog(at=now, person_id=target.person_id, action="callout.report",
                         detail={"callout": callout.id, "target": target.id,
                                 "late": render.report_late(target, callout.policy)}))
    return ReportResult("submitted", T.REPORT_SUBMITTED, target)
