"""The offline demo's servers on an event loop of their own thread, for blocking clients and
for `mailtls check` runs that bring their own loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from mailtls.demo import DemoEnvironment


@contextlib.contextmanager
def demo_in_thread() -> Iterator[DemoEnvironment]:
    ready = threading.Event()
    holder: list[DemoEnvironment] = []
    failure: list[BaseException] = []
    loop_holder: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def run() -> None:
        stop = asyncio.Event()
        loop_holder.append((asyncio.get_running_loop(), stop))
        async with DemoEnvironment.start() as environment:
            holder.append(environment)
            ready.set()
            await stop.wait()

    def thread_main() -> None:
        try:
            asyncio.run(run())
        except BaseException as error:
            failure.append(error)
            ready.set()

    thread = threading.Thread(target=thread_main, name="demo-environment")
    thread.start()
    assert ready.wait(60)
    if failure:
        raise failure[0]
    yield holder[0]
    loop, stop = loop_holder[0]
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)
    assert not thread.is_alive()
    assert not failure, failure
