"""The store, used from the event loop through one worker thread.

Database calls block; made on the loop they would stall every probe in flight. They run, in
order, on one thread that owns the store's connections (SQLite connections belong to the
thread that opened them). A call's ``StoreError`` is raised where it is awaited.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from mailtls.store import Store

P = ParamSpec("P")
R = TypeVar("R")


class StoreGateway:
    def __init__(self, location: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailtls-store")
        self._store: Store | None = None
        self._location = location

    async def open(self) -> Store:
        """Open (and migrate) the store on the worker thread."""
        self._store = await self._submit(Store, self._location)
        return self._store

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the store gateway is not open")
        return self._store

    async def call(self, method: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``method`` (a bound method of the store) on the store's thread."""
        return await self._submit(method, *args, **kwargs)

    async def _submit(self, method: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(method, *args, **kwargs)
        )

    def close(self) -> None:
        """Close the store and wait for a write in progress to finish (never cut in half)."""
        store = self._store
        if store is not None:
            self._executor.submit(store.close).result()
        self._executor.shutdown(wait=True)
