"""Where ``mailtls scan`` keeps runs and results: SQLite by default, PostgreSQL for teams."""

from mailtls.store.location import default_location
from mailtls.store.store import ListedTarget, Store, StoredRun, StoredTarget

__all__ = ["ListedTarget", "Store", "StoredRun", "StoredTarget", "default_location"]
