"""What every command needs, built lazily: settings, the catalogue, the store."""

from __future__ import annotations

import sys
from functools import cached_property

from bot.config import Settings
from bot.store import Store
from schedules import Catalog, CatalogError, load_catalog


class CommandError(Exception):
    """A user mistake: printed as a message, exit code 1, never a traceback."""


class Context:
    def __init__(self, settings: Settings, duties_override: str | None = None):
        self.settings = settings
        self.duties_file = duties_override or settings.duties_file
        self._store: Store | None = None

    @cached_property
    def catalog(self) -> Catalog:
        try:
            return load_catalog(self.duties_file)
        except CatalogError as e:
            for p in e.problems:
                print(p, file=sys.stderr)
            raise SystemExit(1) from None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings.database_url)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.dispose()
