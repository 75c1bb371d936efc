"""The 叫应 pages of the web console, as data: the list of warnings, the live board of one, issuing
from a form (with an uploaded photo) and lifting.

The board is derived on every read from the callout's targets (bot/services/callouts/records.py's
per-recipient rows, plus the report photos' evidence ids), never stored; `Board.version` is a hash
of what the page shows, so a poll that finds nothing new answers with a few bytes and the page
only redraws when something moved (Healthchecks' status endpoint does the same).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.services import callouts
from bot.services.callouts import render
from bot.services.callouts.records import rows_for
from bot.store.models import Callout, CalloutTarget, Evidence, Person, Unit
from bot.texts import console as C
from schedules.catalog import Catalog, Level

PHOTO_TYPES = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}


@dataclass
class Listed:
    callout: Callout
    scope: str
    total: int
    acked: int


def listing(session: Session, limit: int = 100) -> list[Listed]:
    """Warnings, the active ones first, then the latest lifted ones."""
    rows = list(session.exec(select(Callout).order_by(col(Callout.lifted_at).is_not(None), col(Callout.issued_at).desc())
                             .limit(limit)))
    counts = dict.fromkeys((c.id for c in rows), (0, 0))
    if rows:
        for cid, total, acked in session.exec(
                select(CalloutTarget.callout_id, func.count(), func.count(CalloutTarget.acked_at))
                .where(col(CalloutTarget.callout_id).in_(list(counts))).group_by(CalloutTarget.callout_id)):
            counts[cid] = (int(total), int(acked))
    units = {u.id: u.name for u in session.exec(select(Unit))}
    return [Listed(c, render.scope_text([units.get(u, u) for u in c.units or []]), *counts[c.id]) for c in rows]


@dataclass
class Board:
    callout: Callout
    header: dict
    counts: dict[str, int]
    rows: list[dict]  # records.rows_for's keys plus "evidence" (ids of the report's photos)
    summary: list[str] = field(default_factory=list)  # the closing summary, once lifted

    @property
    def version(self) -> str:
        shown = [self.callout.lifted_at, self.counts, self.rows]
        return hashlib.sha256(json.dumps(shown, default=str, sort_keys=True).encode()).hexdigest()[:16]


def board(session: Session, callout_id: int) -> Board | None:
    callout = session.get(Callout, callout_id)
    if callout is None:
        return None
    rows = rows_for(session, callout)
    photos: dict[int, list[int]] = defaultdict(list)
    ids = [r["target_id"] for r in rows]
    if ids:
        for ev_id, target_id in session.exec(select(Evidence.id, Evidence.callout_target_id)
                                             .where(col(Evidence.callout_target_id).in_(ids)).order_by(Evidence.id)):
            photos[target_id].append(ev_id)
    for r in rows:
        r["evidence"] = photos.get(r["target_id"], [])
    targets = callouts.targets_of(session, callout.id)
    h = callouts.header(session, callout)
    summary = []
    if callout.lifted_at is not None:
        summary = render.summary(callout, h, targets, callouts.people_of(session, targets))
    return Board(callout, h, render.counts(targets), rows, summary)


def levels(catalog: Catalog) -> list[tuple[str, str]]:
    """(level, name) of the levels the catalogue has a policy for, most severe first."""
    return [(lv.value, render.level_name(lv.value)) for lv in Level if lv in catalog.callouts]


def board_chat(session: Session, issuer: Person | None, office: Sequence[str]) -> int | None:
    """Where the Telegram board goes: the issuer's chat, else the first bound office member's."""
    if issuer is not None and issuer.telegram_id is not None:
        return issuer.telegram_id
    for pid in office:
        row = session.get(Person, pid)
        if row is not None and row.retired_at is None and row.telegram_id is not None:
            return row.telegram_id
    return None


def store_photo(data: bytes, filename: str, data_dir: Path) -> dict:
    """An uploaded photo kept under DATA_DIR (content-addressed, as the CLI's --file does); raises
    CalloutError unless it is a JPEG, PNG or WebP image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            suffix = PHOTO_TYPES.get(img.format or "")
    except (UnidentifiedImageError, OSError):
        suffix = None
    if suffix is None:
        raise callouts.CalloutError(C.PHOTO_NOT_IMAGE)
    rel = Path("callouts") / f"{hashlib.sha256(data).hexdigest()}{suffix}"
    dest = data_dir / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        dest.write_bytes(data)
    return {"kind": "photo", "path": str(rel), "filename": Path(filename).name or f"photo{suffix}"}


def issue(session: Session, catalog: Catalog, *, issuer_id: str, level: str, units: Sequence[str], hazard: str,
          text: str, now: datetime, attachment: dict | None = None) -> Callout:
    """Issue from the console: the issuer's Telegram chat (or the office's) gets the Telegram board too."""
    issuer = session.get(Person, issuer_id)
    chat = board_chat(session, issuer, [p.id for p in catalog.office])
    return callouts.issue(session, catalog, level=level, text=text, now=now, units=units, hazard=hazard,
                          issued_by=issuer_id, attachment=attachment, board_chat_id=chat)
