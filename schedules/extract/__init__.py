"""Drafting a duty catalogue from a published responsibility list (职责清单 / 责任清单 / 实施细则).

Pure: text in, draft out. `extract(text, current_year)` reads the list; `render(draft)` writes the
duties.yaml draft with `# 待核` comments; `summary_lines(draft)` is the short report for the office.
"""

from __future__ import annotations

from .draft import Draft, DraftDuty, DraftHolidayCheck, DraftTask, ReviewItem
from .layout import read
from .render import render, summary_lines


def extract(text: str, current_year: int) -> Draft:
    """The draft catalogue of a list's text. `current_year` is used when the text names no year."""
    from .draft import build

    return build(read(text), current_year)


def draft_yaml(text: str, current_year: int, source_name: str = "") -> tuple[Draft, str]:
    draft = extract(text, current_year)
    return draft, render(draft, source_name)


__all__ = ["Draft", "DraftDuty", "DraftHolidayCheck", "DraftTask", "ReviewItem", "draft_yaml", "extract", "render",
           "summary_lines"]
