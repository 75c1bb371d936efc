"""Page areas of the console. A module here exposes `routes` (an aiohttp RouteTableDef) and
optionally `NAV = [(order, path, label)]` for the office's navigation and `setup(app)` for state
of its own made before the app starts; app.py discovers them."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def modules() -> list[ModuleType]:
    return [importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)
            if not info.name.startswith("_")]


def nav(found: list[ModuleType]) -> list[tuple[int, str, str]]:
    return [entry for module in found for entry in getattr(module, "NAV", [])]
