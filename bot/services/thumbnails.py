"""Small JPEG previews of evidence photos for the web console, made on first request and kept
under DATA_DIR/thumbs/<sha256>.jpg (evidence is content-addressed, so a preview never goes stale)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

SIZE = (320, 320)


def thumbnail(data_dir: Path, sha256: str, source: Path) -> Path | None:
    """The preview's path, or None when the file is missing or not an image Pillow can read."""
    out = Path(data_dir) / "thumbs" / f"{sha256}.jpg"
    if out.is_file():
        return out
    try:
        with Image.open(source) as img:
            img = ImageOps.exif_transpose(img)
            img.thumbnail(SIZE)
            if img.mode not in ("RGB", "L"):
                img = img.convert("RGB")
            out.parent.mkdir(parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(dir=out.parent, suffix=".part")
            os.close(handle)
            img.save(tmp, "JPEG", quality=80)
            os.replace(tmp, out)  # two requests at once both write a whole file; one wins
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return out
