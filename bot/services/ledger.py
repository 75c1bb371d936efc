"""The hash chain that makes the record tamper-evident.

Each append-only record (check-in, evidence, callout ack, callout report, exemption decision,
exemption revocation, check-in correction) gets
a ledger entry: content_hash = SHA-256 of the record's canonical JSON, hash = SHA-256 of
(prev_hash + kind + ref_id + content_hash). UNIQUE(prev_hash) means two writers racing for the
head cannot both succeed; the loser retries on the new head.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.store.models import LedgerEntry

GENESIS = "0" * 64


def canonical(content: dict[str, Any]) -> bytes:
    def norm(v: Any) -> Any:
        if isinstance(v, datetime):
            # The store hands datetimes back as UTC whatever zone they were written in, so the
            # content must be hashed in UTC too or verify would see a Shanghai time as altered.
            if v.tzinfo is not None:
                v = v.astimezone(UTC)
            return v.isoformat(timespec="microseconds")
        return v

    return json.dumps({k: norm(v) for k, v in content.items()}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=str).encode()


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def chain_hash(prev_hash: str, kind: str, ref_id: int, c_hash: str) -> str:
    return hashlib.sha256(f"{prev_hash}|{kind}|{ref_id}|{c_hash}".encode()).hexdigest()


def head(session: Session) -> LedgerEntry | None:
    return session.exec(select(LedgerEntry).order_by(LedgerEntry.seq.desc()).limit(1)).first()  # type: ignore[union-attr]


def append(session: Session, kind: str, ref_id: int, content: dict[str, Any], at: datetime,
           attempts: int = 5) -> LedgerEntry:
    c_hash = content_hash(content)
    for _ in range(attempts):
        last = head(session)
        prev = last.hash if last else GENESIS
        entry = LedgerEntry(kind=kind, ref_id=ref_id, at=at, content_hash=c_hash, prev_hash=prev,
                            hash=chain_hash(prev, kind, ref_id, c_hash))
        try:
            with session.begin_nested():
                session.add(entry)
                session.flush()
            return entry
        except IntegrityError:
            session.expunge(entry) if entry in session else None
            continue
    raise RuntimeError("could not append to the ledger: too much contention")


# The canonical content of each kind of record. verify recomputes these from the rows, so a field
# listed here cannot change without the chain showing it.
def _checkin(row: Any) -> dict[str, Any]:
    return {"id": row.id, "instance_id": row.instance_id, "person_id": row.person_id, "text": row.text,
            "at": row.at, "update_id": row.update_id, "media_group_id": row.media_group_id,
            "attachments": sorted(a.get("file_unique_id", "") for a in row.attachments or [])}


def _evidence(row: Any) -> dict[str, Any]:
    return {"id": row.id, "checkin_id": row.checkin_id, "callout_target_id": row.callout_target_id,
            "sha256": row.sha256, "size": row.size, "mime": row.mime, "tg_file_unique_id": row.tg_file_unique_id,
            "at": row.at}


def _ack(row: Any) -> dict[str, Any]:
    return {"id": row.id, "callout_id": row.callout_id, "person_id": row.person_id, "acked_at": row.acked_at}


def _report(row: Any) -> dict[str, Any]:
    return {"id": row.id, "callout_id": row.callout_id, "person_id": row.person_id, "report_at": row.report_at,
            "measures": list(row.report_measures or []), "text": row.report_text}


def _exemption(row: Any) -> dict[str, Any]:
    # The decision as it was taken: a revoked exemption was approved (its revocation is chained
    # as a record of its own, "revocation", so the decision's hash stays what it was).
    state = "approved" if row.state == "revoked" else row.state
    return {"id": row.id, "person_id": row.person_id, "instance_id": row.instance_id,
            "reason_kind": row.reason_kind, "reason": row.reason, "date_from": row.date_from,
            "date_to": row.date_to, "state": state, "decided_by": row.decided_by, "decided_at": row.decided_at}


def _revocation(row: Any) -> dict[str, Any]:
    return {"id": row.id, "exemption_id": row.exemption_id, "reason": row.reason, "revoked_by": row.revoked_by,
            "revoked_at": row.revoked_at, "reinstated": sorted(row.reinstated or [])}


def _correction(row: Any) -> dict[str, Any]:
    return {"id": row.id, "checkin_id": row.checkin_id, "person_id": row.person_id, "action": row.action,
            "to_instance_id": row.to_instance_id, "new_checkin_id": row.new_checkin_id, "at": row.at}


CONTENT = {"checkin": _checkin, "evidence": _evidence, "ack": _ack, "report": _report, "exemption": _exemption,
           "revocation": _revocation, "correction": _correction}


def record(session: Session, kind: str, row: Any, at: datetime) -> LedgerEntry:
    """Chain a freshly flushed append-only row (it needs its id)."""
    if row.id is None:
        session.flush()
    return append(session, kind, row.id, CONTENT[kind](row), at)
