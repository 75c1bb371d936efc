"""Liveness for probes (`/healthz`) and `dutybot status --system`: plain functions of the store, so
every caller (the webhook server, the web console, the CLI) reports the same fields.

    health(session, leadership)  -> {"ok", "leader", "epoch", "lease_expires_at", "outbox_pending", "inbox_pending", ...}
    cluster(session)             -> the same for the cluster (who leads, claims per process)

`leader` is this process's own view (`Leadership.is_leader()`, None when the caller is not a bot
process); `epoch`, `lease_holder` and `lease_expires_at` are the lease row as the database has it.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, func, select

from bot.store import lease
from bot.store.models import InboxUpdate, Outbox


def health(session: Session, leadership: Any = None) -> dict:
    """Raises when the store is unreachable (the probe then answers 503)."""
    outbox_pending = session.exec(
        select(func.count()).select_from(Outbox).where(Outbox.state.in_(["pending", "sending"]))  # type: ignore[attr-defined]
    ).one()
    inbox_pending = session.exec(select(func.count()).select_from(InboxUpdate).where(InboxUpdate.state == "new")).one()
    row, now = lease.current(session)
    held = row is not None and row.holder is not None and row.expires_at is not None and row.expires_at > now
    return {
        "ok": True,
        "leader": leadership.is_leader() if leadership is not None else None,
        "holder": leadership.holder if leadership is not None else None,
        "epoch": row.epoch if row is not None else None,
        "lease_holder": row.holder if held else None,
        "lease_expires_at": row.expires_at.isoformat() if held else None,
        "outbox_pending": int(outbox_pending),
        "inbox_pending": int(inbox_pending),
    }


def cluster(session: Session) -> dict:
    """`health` for the whole cluster: who leads, and which processes hold claims right now."""
    report = health(session)
    del report["leader"], report["holder"]
    report["leader"] = report["lease_holder"]
    sending = session.exec(select(Outbox.claimed_by, func.count()).where(Outbox.state == "sending")
                           .group_by(Outbox.claimed_by)).all()
    working = session.exec(select(InboxUpdate.claimed_by, func.count())
                           .where(InboxUpdate.state == "new", InboxUpdate.claimed_until.is_not(None))  # type: ignore[union-attr]
                           .group_by(InboxUpdate.claimed_by)).all()
    report["outbox_claims"] = {holder or "?": int(n) for holder, n in sending}
    report["inbox_claims"] = {holder or "?": int(n) for holder, n in working}
    return report
