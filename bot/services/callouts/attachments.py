"""A warning's photo or document: stored under DATA_DIR when given on the command line, sent with
the first call."""

from __future__ import annotations

from pathlib import Path

from bot.services.callouts.policy import CalloutError
from bot.texts import callouts as T


def attachment_payload(attachment: dict) -> dict:
    """The outbox payload of a warning's photo or document (a Telegram file id or a stored file)."""
    kind = attachment.get("kind", "document")
    method = "sendPhoto" if kind == "photo" else "sendDocument"
    payload: dict = {"method": method, "caption": attachment.get("caption", "")}
    if attachment.get("file_id"):
        payload["file_id"] = attachment["file_id"]
    if attachment.get("path"):
        payload["path"] = attachment["path"]
    if attachment.get("filename"):
        payload["filename"] = attachment["filename"]
    return payload


def attachment_from_file(path: str | Path, data_dir: Path) -> dict:
    """Copy a file given on the command line under DATA_DIR (the bot may run elsewhere in the same
    volume, and the original may be deleted), content-addressed."""
    import hashlib
    import shutil

    src = Path(path)
    if not src.is_file():
        raise CalloutError(T.ERR_FILE.format(value=path))
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    rel = Path("callouts") / f"{digest}{src.suffix.lower()}"
    dest = data_dir / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        shutil.copyfile(src, dest)
    kind = "photo" if src.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp") else "document"
    return {"kind": kind, "path": str(rel), "filename": src.name}
