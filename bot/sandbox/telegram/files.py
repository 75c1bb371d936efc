"""Files known to the sandbox: what users sent and what the bot uploaded, by file_id."""

from __future__ import annotations

import hashlib
import io
import itertools
import mimetypes
import secrets
from dataclasses import dataclass, field

# Telegram lets bots download files up to this size through getFile.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
# Telegram's photo size ladder: type letter and the longest side.
_PHOTO_LADDER = [("s", 90), ("m", 320), ("x", 800), ("y", 1280), ("w", 2560)]


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    mime_type: str | None = None
    file_name: str | None = None
    width: int | None = None
    height: int | None = None
    source_url: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.data)

    def info(self) -> dict:
        """The ``File`` object of getFile (file_path only below the download limit)."""
        out = {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": self.size}
        if self.size <= MAX_DOWNLOAD_BYTES:
            out["file_path"] = self.file_path
        return out

    def photo_size(self) -> dict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "width": self.width or 0,
            "height": self.height or 0,
        }

    def ref(self) -> dict:
        """What the control API reports about a file (bytes are fetched separately)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": self.size,
            "sha256": hashlib.sha256(self.data).hexdigest(),
            "width": self.width,
            "height": self.height,
            "url": self.source_url,
        }


def image_size(data: bytes) -> tuple[int, int] | None:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except Exception:  # not an image Pillow knows: the caller falls back to a nominal size
        return None


def _thumbnail(data: bytes, longest: int) -> tuple[bytes, int, int] | None:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            img = img.convert("RGB")
            img.thumbnail((longest, longest))
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=80)
            return buf.getvalue(), img.width, img.height
    except Exception:
        return None


class FileStore:
    def __init__(self) -> None:
        self._files: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[StoredFile]] = {}  # any member's file_id -> the whole set
        self._counter = itertools.count(1)

    def reset(self) -> None:
        self.__init__()

    def get(self, file_id: str) -> StoredFile | None:
        return self._files.get(file_id)

    def by_path(self, path: str) -> StoredFile | None:
        return self._by_path.get(path)

    def add(self, data: bytes, kind: str, *, file_name: str | None = None, mime_type: str | None = None,
            width: int | None = None, height: int | None = None, source_url: str | None = None) -> StoredFile:
        n = next(self._counter)
        ext = ""
        if file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1]
        elif mime_type:
            ext = mimetypes.guess_extension(mime_type) or ""
        elif kind == "photos":
            ext = ".jpg"
        prefix = {"photos": "AgAC", "documents": "BQAC", "voice": "AwAC", "videos": "BAAC"}.get(kind, "CAAC")
        stored = StoredFile(
            file_id=f"{prefix}{secrets.token_urlsafe(24)}",
            file_unique_id=f"AQAD{n:08d}",
            data=data,
            file_path=f"{kind}/file_{n}{ext}",
            mime_type=mime_type,
            file_name=file_name,
            width=width,
            height=height,
            source_url=source_url,
        )
        self._files[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def add_photo(self, data: bytes, ladder: list[tuple[bytes, int, int]] | None = None) -> list[StoredFile]:
        """Store a photo as Telegram's PhotoSize ladder, smallest first. ``ladder`` comes from
        photo_ladder(), which is CPU-bound and may run in a worker thread."""
        sizes = [
            self.add(blob, "photos", mime_type="image/jpeg", width=width, height=height)
            for blob, width, height in (ladder if ladder is not None else photo_ladder(data))
        ]
        for member in sizes:
            self._photo_sets[member.file_id] = sizes
        return sizes

    def photo_set(self, file_id: str) -> list[StoredFile] | None:
        found = self._photo_sets.get(file_id)
        if found is None and (single := self._files.get(file_id)) is not None:
            return [single]
        return found


def photo_ladder(data: bytes) -> list[tuple[bytes, int, int]]:
    """(bytes, width, height) per size, smallest first. The largest keeps the original bytes, so a
    bot downloading ``photo[-1]`` gets exactly what the user sent. Pure: safe in a worker thread."""
    dims = image_size(data)
    if dims is None:  # not an image Pillow reads: nominal sizes around the same bytes
        return [(data, 90, 68), (data, 1280, 960)]
    width, height = dims
    longest = max(width, height)
    ladder = []
    for _, side in _PHOTO_LADDER:
        if side >= longest:
            break
        thumb = _thumbnail(data, side)
        if thumb:
            ladder.append(thumb)
    if not ladder:  # a tiny image still comes with a thumbnail entry, as on Telegram
        ladder.append(_thumbnail(data, longest) or (data, width, height))
    ladder.append((data, width, height))
    return ladder
