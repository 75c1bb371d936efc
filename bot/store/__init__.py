"""The store: SQLModel tables, engine, migrations and catalogue sync."""

from .db import Store, migrate

__all__ = ["Store", "migrate"]
