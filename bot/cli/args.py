"""Argument types shared by the commands: bad values become argparse errors, never tracebacks."""

from __future__ import annotations

import argparse
from datetime import date


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD / date must be YYYY-MM-DD: {text!r}") from None
