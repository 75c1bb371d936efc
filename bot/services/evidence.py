"""Evidence files: fetched from Telegram in the background, stored once by content.

A check-in is committed with the Telegram file ids of what came with it; each file becomes a
`Download` row, and a worker (`run_due`) fetches it, writes it to
`DATA_DIR/evidence/<sha256[:2]>/<sha256>` and appends an `Evidence` row. A failed fetch is
retried with backoff, so a Telegram hiccup never costs the check-in or the photo.

Files that arrive before their duty is known (the bot has to ask) are fetched at once all the
same (`keep_unfiled`): a Download without a check-in, stored as an *unfiled* Evidence row
(checkin_id and callout_target_id both empty), chained like any other. Choosing the duty later
only links them: the check-in's own Evidence rows reuse the stored bytes (no second fetch). Files
nobody ever files stay visible to the office as 未归档佐证 (`unfiled`).

The fetch itself is a callable given by the caller (`async fetch(file_id) -> bytes`), so this
module knows nothing of Telegram.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from bot.services import ledger
from bot.store.models import CheckIn, Download, Evidence

log = logging.getLogger(__name__)

# Telegram's getFile refuses bigger files to bots on the cloud Bot API.
MAX_FILE_BYTES = 20 * 1024 * 1024
BACKOFF_FIRST = timedelta(seconds=1)
BACKOFF_MAX = timedelta(minutes=15)
# A fetch in progress holds its row this long, so a second worker (another process) skips it.
LEASE = timedelta(minutes=2)

Fetch = Callable[[str], Awaitable[bytes]]


class PermanentError(Exception):
    """A fetch that will never succeed (e.g. Telegram says the file is too big): stop retrying."""


@dataclass(frozen=True)
class ImageInfo:
    width: int | None = None
    height: int | None = None
    exif_time: str | None = None  # EXIF DateTimeOriginal as written by the camera, "YYYY:MM:DD HH:MM:SS"


# -- content-addressed storage ----------------------------------------------------------------
def relative_path(sha256: str) -> str:
    return f"evidence/{sha256[:2]}/{sha256}"


def store_bytes(data_dir: Path, data: bytes) -> tuple[str, str]:
    """Write `data` under its SHA-256 (once: the same bytes are never stored twice).
    Returns (sha256, path relative to data_dir)."""
    sha = hashlib.sha256(data).hexdigest()
    rel = relative_path(sha)
    target = Path(data_dir) / rel
    if target.is_file() and target.stat().st_size == len(data):
        return sha, rel
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename: a crash never leaves a half-written file under a valid hash name.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha, rel


def inspect_image(data: bytes) -> ImageInfo:
    """Dimensions and camera time of an image; empty for anything Pillow cannot read."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            exif = img.getexif()
            taken = exif.get_ifd(0x8769).get(36867) if exif else None  # Exif IFD, DateTimeOriginal
    except Exception:  # not an image (a PDF, a spreadsheet): no dimensions, no EXIF
        return ImageInfo()
    if isinstance(taken, bytes):
        taken = taken.decode(errors="replace")
    taken = str(taken).strip("\x00 ") if taken else None
    return ImageInfo(width, height, taken or None)


# -- queueing ---------------------------------------------------------------------------------
def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _download_key(session: Session, unique_id: str, checkin_id: int) -> str:
    # Download.tg_file_unique_id is unique: the same file sent again for another check-in gets
    # a key with the check-in id appended (file_unique_ids never contain ':').
    taken = session.exec(select(Download.id).where(Download.tg_file_unique_id == unique_id)).first()
    return unique_id if taken is None else f"{unique_id}:{checkin_id}"


def schedule(session: Session, checkin: CheckIn, attachment: dict, now: datetime) -> Evidence | Download | None:
    """Queue one attachment of a fresh check-in for download; when the same file is stored
    already (sent again), record the evidence at once instead. None when it was queued before."""
    unique = attachment.get("file_unique_id") or attachment["file_id"]
    existing = session.exec(
        select(Evidence).where(Evidence.tg_file_unique_id == unique).order_by(Evidence.id)  # type: ignore[arg-type]
    ).first()
    if existing is not None:
        return add_evidence(session, checkin.id, attachment, existing.sha256, existing.path, existing.size,
                            ImageInfo(existing.width, existing.height, existing.exif_time), now)
    key = _download_key(session, unique, checkin.id)
    if key != unique and session.exec(select(Download.id).where(Download.tg_file_unique_id == key)).first():
        return None
    row = Download(checkin_id=checkin.id, tg_file_id=attachment["file_id"], tg_file_unique_id=key,
                   mime=attachment.get("mime") or "", next_try_at=now)
    session.add(row)
    session.flush()
    return row


def keep_unfiled(session: Session, attachment: dict, now: datetime) -> Download | None:
    """Fetch a file whose duty is not known yet, now; None when it is stored or queued already."""
    unique = attachment.get("file_unique_id") or attachment["file_id"]
    if session.exec(select(Evidence.id).where(Evidence.tg_file_unique_id == unique)).first() is not None:
        return None
    if session.exec(select(Download.id).where(Download.tg_file_unique_id == unique)).first() is not None:
        return None
    row = Download(tg_file_id=attachment["file_id"], tg_file_unique_id=unique, mime=attachment.get("mime") or "",
                   next_try_at=now)
    session.add(row)
    session.flush()
    return row


def unfiled(session: Session, before: datetime) -> list[Evidence]:
    """Files stored before `before` that no check-in (and no 叫应 report) took: 未归档佐证."""
    linked = select(Evidence.tg_file_unique_id).where(
        (Evidence.checkin_id.is_not(None)) | (Evidence.callout_target_id.is_not(None)))  # type: ignore[union-attr]
    return list(session.exec(
        select(Evidence).where(Evidence.checkin_id.is_(None), Evidence.callout_target_id.is_(None),  # type: ignore[union-attr]
                               Evidence.at < before, Evidence.tg_file_unique_id.not_in(linked))  # type: ignore[union-attr]
        .order_by(Evidence.at, Evidence.id)))  # type: ignore[arg-type]


def add_evidence(session: Session, checkin_id: int | None, attachment: dict, sha: str, rel: str, size: int,
                 info: ImageInfo, now: datetime, callout_target_id: int | None = None) -> Evidence:
    """Append an Evidence row for stored bytes and chain it in the ledger (idempotent per file)."""
    unique = attachment.get("file_unique_id") or attachment["file_id"]
    query = select(Evidence).where(Evidence.tg_file_unique_id == unique)
    query = query.where(Evidence.checkin_id == checkin_id) if checkin_id is not None else query.where(
        Evidence.callout_target_id == callout_target_id)
    found = session.exec(query).first()
    if found is not None:
        return found
    row = Evidence(checkin_id=checkin_id, callout_target_id=callout_target_id, sha256=sha, path=rel,
                   mime=attachment.get("mime") or "", size=size,
                   width=info.width or attachment.get("width"), height=info.height or attachment.get("height"),
                   exif_time=info.exif_time, tg_file_id=attachment["file_id"], tg_file_unique_id=unique, at=now)
    session.add(row)
    session.flush()
    ledger.record(session, "evidence", row, now)
    return row


# -- the worker -------------------------------------------------------------------------------
def claim_due(session: Session, now: datetime, limit: int = 20) -> list[Download]:
    """Pending downloads whose time has come, leased to this worker."""
    rows = list(session.exec(
        select(Download).where(Download.state == "pending", Download.next_try_at <= now)
        .order_by(Download.next_try_at, Download.id).limit(limit)  # type: ignore[arg-type]
    ))
    for row in rows:
        row.next_try_at = now + LEASE
    session.flush()
    return rows


def next_due(session: Session) -> datetime | None:
    return session.exec(select(Download.next_try_at).where(Download.state == "pending")
                        .order_by(Download.next_try_at).limit(1)).first()  # type: ignore[arg-type]


def _attachment_of(download: Download, checkin: CheckIn | None) -> dict:
    unique = download.tg_file_unique_id.split(":", 1)[0]
    for a in (checkin.attachments if checkin else []) or []:
        if a.get("file_unique_id") == unique or a.get("file_id") == download.tg_file_id:
            return {**a, "file_unique_id": unique}
    return {"file_id": download.tg_file_id, "file_unique_id": unique, "mime": download.mime}


def complete(session: Session, download_id: int, data: bytes, data_dir: Path, now: datetime) -> Evidence | None:
    """Store fetched bytes and record the evidence; None when the download was finished already."""
    row = session.get(Download, download_id)
    if row is None or row.state == "done":
        return None
    sha, rel = store_bytes(data_dir, data)
    checkin = session.get(CheckIn, row.checkin_id) if row.checkin_id is not None else None
    evidence = add_evidence(session, row.checkin_id, _attachment_of(row, checkin), sha, rel, len(data),
                            inspect_image(data), now, callout_target_id=row.callout_target_id)
    row.state, row.error = "done", None
    row.attempts += 1
    return evidence


def reuse(session: Session, download_id: int, data_dir: Path, now: datetime) -> bool:
    """Finish a download from a file stored already (its unfiled copy came first): no fetch."""
    row = session.get(Download, download_id)
    if row is None or row.state == "done":
        return row is not None
    unique = row.tg_file_unique_id.split(":", 1)[0]
    stored = session.exec(select(Evidence).where(Evidence.tg_file_unique_id == unique)
                          .order_by(Evidence.id)).first()  # type: ignore[arg-type]
    if stored is None or not (Path(data_dir) / stored.path).is_file():
        return False
    checkin = session.get(CheckIn, row.checkin_id) if row.checkin_id is not None else None
    add_evidence(session, row.checkin_id, _attachment_of(row, checkin), stored.sha256, stored.path, stored.size,
                 ImageInfo(stored.width, stored.height, stored.exif_time), now,
                 callout_target_id=row.callout_target_id)
    row.state, row.error = "done", None
    return True


def failed(session: Session, download_id: int, error: str, now: datetime, permanent: bool = False) -> None:
    row = session.get(Download, download_id)
    if row is None or row.state == "done":
        return
    row.attempts += 1
    row.error = error[:500]
    if permanent:
        row.state = "failed"
    else:
        row.next_try_at = now + backoff(row.attempts)


async def run_due(store, fetch: Fetch, data_dir: Path, now: Callable[[], datetime], limit: int = 20) -> int:
    """Fetch every download that is due; returns how many were stored. Errors are recorded on the
    row (retried later), never raised: the worker keeps going. Store work runs in a thread so the
    event loop (and the bot) never waits on the database or the disk."""

    def claim() -> list[tuple[int, str]]:
        with store.session() as session:
            return [(d.id, d.tg_file_id) for d in claim_due(session, now(), limit)]

    def fail(download_id: int, error: str, permanent: bool = False) -> None:
        with store.session() as session:
            failed(session, download_id, error, now(), permanent=permanent)

    def finish(download_id: int, data: bytes) -> bool:
        with store.session() as session:
            return complete(session, download_id, data, data_dir, now()) is not None

    def reused(download_id: int) -> bool:
        with store.session() as session:
            return reuse(session, download_id, data_dir, now())

    stored = 0
    for download_id, file_id in await asyncio.to_thread(claim):
        if await asyncio.to_thread(reused, download_id):
            stored += 1
            continue
        try:
            data = await fetch(file_id)
        except PermanentError as e:
            log.warning("download %s refused for good: %s", download_id, e)
            await asyncio.to_thread(fail, download_id, str(e), True)
            continue
        except Exception as e:  # network, 5xx, timeouts: all worth another try
            log.info("download %s failed, will retry: %r", download_id, e)
            await asyncio.to_thread(fail, download_id, repr(e))
            continue
        if await asyncio.to_thread(finish, download_id, bytes(data)):
            stored += 1
    return stored
