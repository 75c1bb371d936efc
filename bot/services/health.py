"""Liveness for probes (`/healthz`): a plain function of the store, so other areas (the cluster's
leader lease) add their fields here and every caller sees them."""

from __future__ import annotations

from sqlmodel import Session, func, select

from bot.store.models import InboxUpdate, Outbox


def health(session: Session) -> dict:
    """{"ok": True, "outbox_pending": N, "inbox_pending": N}; raises when the store is unreachable."""
    outbox_pending = session.exec(
        select(func.count()).select_from(Outbox).where(Outbox.state.in_(["pending", "sending"]))  # type: ignore[attr-defined]
    ).one()
    inbox_pending = session.exec(select(func.count()).select_from(InboxUpdate).where(InboxUpdate.state == "new")).one()
    return {"ok": True, "outbox_pending": int(outbox_pending), "inbox_pending": int(inbox_pending)}
