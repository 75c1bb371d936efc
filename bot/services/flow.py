"""What the office's guided flows (/warn, /campaign) share: the reply a step gives, button grids,
and the units one can pick."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.services import outbox
from schedules.catalog import Catalog


@dataclass
class Reply:
    text: str = ""
    buttons: list[list[dict]] = field(default_factory=list)
    edit: bool = False  # edit the tapped message instead of sending a new one
    toast: str = ""
    alert: bool = False


def grid(items: list[tuple[str, str]], per_row: int = 2) -> list[list[dict]]:
    """(label, callback data) pairs as rows of `per_row` buttons."""
    buttons = [outbox.button(label, data) for label, data in items]
    return [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]


def unit_choices(catalog: Catalog) -> list[tuple[str, str]]:
    """(id, name) of the units one can pick: every unit but a single top unit (that is 全部)."""
    roots = [u for u in catalog.units if u.parent is None]
    return [(u.id, u.name) for u in catalog.units if not (len(roots) == 1 and u.parent is None)]
