"""Small JSON state in the KeyValue table: a flow in progress (/warn, /campaign, a 叫应 report
draft), a live board's bookkeeping. Kept in the store so a restart mid-flow loses nothing."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session

from .models import KeyValue


def get(session: Session, key: str) -> dict | None:
    row = session.get(KeyValue, key)
    return json.loads(row.value) if row and row.value else None


def put(session: Session, key: str, value: dict | None, now: datetime) -> None:
    """Store `value` under `key`; None deletes it."""
    row = session.get(KeyValue, key)
    if value is None:
        if row is not None:
            session.delete(row)
            session.flush()
        return
    if row is None:
        session.add(KeyValue(key=key, value=json.dumps(value, ensure_ascii=False), updated_at=now))
    else:
        row.value = json.dumps(value, ensure_ascii=False)
        row.updated_at = now
