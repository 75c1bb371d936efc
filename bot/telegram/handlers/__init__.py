"""Handler modules, one per area of the product, discovered by bot/telegram/app.py.

A module here exposes:
- `register(app: Application) -> None` — adds its handlers (group 0 unless it needs another;
  group -1 is the access gate, see bot/telegram/access.py);
- optionally `COMMANDS: list[tuple[str, str]]` — (command, Chinese description) for the command
  menu sent with setMyCommands, and `OFFICE_COMMANDS` likewise for commands only the office uses
  (listed in /help for office people only);
- optionally `ORDER: int` (default 50) — modules register in (ORDER, name) order, which matters
  only when two handlers of the same group could match the same update.

Handlers get `BotContext` with `get_ctx(context)` (bot/telegram/context.py), the person with
`access.current_person(update, context)`, and send through the outbox (bot/services/outbox.py).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from types import ModuleType

from telegram.ext import Application

log = logging.getLogger(__name__)


def modules() -> list[ModuleType]:
    found = [importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)
             if not info.name.startswith("_")]
    return sorted(found, key=lambda m: (getattr(m, "ORDER", 50), m.__name__))


def register_all(app: Application) -> list[ModuleType]:
    registered = []
    for module in modules():
        register = getattr(module, "register", None)
        if register is None:
            log.warning("handler module %s has no register(app); skipped", module.__name__)
            continue
        register(app)
        registered.append(module)
    return registered


def commands(found: list[ModuleType]) -> list[tuple[str, str]]:
    """The command menu: every module's COMMANDS, first description wins, in module order."""
    seen: dict[str, str] = {}
    for module in found:
        for command, description in getattr(module, "COMMANDS", []):
            seen.setdefault(command, description)
    return list(seen.items())


def office_commands(found: list[ModuleType]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for module in found:
        for command, description in getattr(module, "OFFICE_COMMANDS", []):
            seen.setdefault(command, description)
    return list(seen.items())
