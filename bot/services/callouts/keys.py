"""Where a 叫应 keeps its messages: outbox dedupe keys and the outbox states the callout code reads.

Dedupe keys: callout:<id>:<target>:call<n> | :file | :form | :form<n> (its edits) | :nudge | :lift |
:ack<n> (the edit of call n), callout:<id>:<target>:escalate:<silent target> (notices),
callout:<id>:board:<n>, callout:<id>:summary:<chat>:<n>. A key is unique in the outbox, so a step
taken twice (two workers, a restart) queues its message once.
"""

from __future__ import annotations

from sqlmodel import Session, select

from bot.services import outbox
from bot.store.models import Outbox

BOARD_PRIORITY = outbox.CALLOUT - 1
ACTIVE_SENDS = ("pending", "sending")
CANCELLED = "cancelled"  # outbox state for a queued call made pointless by an answer or 解除


def key(callout_id: int, target_id: int | str, step: str) -> str:
    return f"callout:{callout_id}:{target_id}:{step}"


def key_range(callout_id: int) -> tuple[str, str]:
    """Bounds of this callout's dedupe keys: `lo <= key < hi` uses the unique index on both
    databases, where LIKE 'callout:5:%' would not (case-insensitive LIKE, collations)."""
    return f"callout:{callout_id}:", f"callout:{callout_id};"  # ';' sorts right after ':'


def board_kv(callout_id: int) -> str:
    return f"callout:{callout_id}:board"


def outbox_by_key(session: Session, dedupe_key: str) -> Outbox | None:
    return session.exec(select(Outbox).where(Outbox.dedupe_key == dedupe_key)).first()
