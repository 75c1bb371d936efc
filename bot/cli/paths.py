"""Paths the user gives on the command line (--out, --file): checked before any work, and every OS
error on them turned into a message naming the path and the reason, never a traceback.

`output_file(text)` refuses what cannot become the output file *before* the command does its work
(a directory, a missing or non-folder parent, something that is not a regular file, an unwritable
folder), so a refused export has written nothing. The check cannot foresee everything (a full
disk, /proc refusing to create files), so commands also wrap the writing in `writing(path)`,
which turns the OSError into a CommandError; the services write to a temporary name and rename
only a finished file, so nothing half-written is left behind either way.

We do not create missing folders for `--out`: a typo in a folder name would otherwise scatter
exports in new folders silently (the Telegram side's exports under DATA_DIR are created as needed).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from bot.texts import cli as T

from .context import CommandError


def reason(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__


def output_file(text: str) -> Path:
    if not text or not text.strip():
        raise CommandError(T.OUT_EMPTY)
    path = Path(text).expanduser()
    try:
        if path.is_dir() or text.endswith(os.sep):
            raise CommandError(T.OUT_IS_DIR.format(path=text.rstrip(os.sep) or text))
        if path.exists() and not path.is_file():
            raise CommandError(T.OUT_NOT_FILE.format(path=text))
        parent = path.parent
        if not parent.exists():
            raise CommandError(T.OUT_NO_PARENT.format(parent=parent))
        if not parent.is_dir():
            raise CommandError(T.OUT_PARENT_NOT_DIR.format(parent=parent))
        if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise CommandError(T.OUT_NOT_WRITABLE.format(path=text, reason=os.strerror(13)))
    except OSError as err:  # a name too long, a loop of links…
        raise CommandError(T.OUT_NOT_WRITABLE.format(path=text, reason=reason(err))) from None
    return path


@contextlib.contextmanager
def writing(path: Path | str) -> Iterator[None]:
    """OS errors while writing `path` (or its temporary file) become a message naming `path`."""
    try:
        yield
    except OSError as err:
        raise CommandError(T.OUT_NOT_WRITABLE.format(path=path, reason=reason(err))) from None


@contextlib.contextmanager
def reading(path: Path | str) -> Iterator[None]:
    try:
        yield
    except OSError as err:
        raise CommandError(T.READ_FAILED.format(path=path, reason=reason(err))) from None
