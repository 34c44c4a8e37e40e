"""Headless Chromium driven over the DevTools protocol on a pipe: open a page, read its console,
query its DOM, take a screenshot. No network at all: the protocol runs over two file
descriptors (``--remote-debugging-pipe``), and the browser is told not to phone home.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--remote-debugging-pipe",
)
TIMEOUT = 60.0


class BrowserError(Exception):
    pass


@dataclass(frozen=True)
class ConsoleEntry:
    """A console message, log entry or uncaught exception the page produced."""

    kind: str  # "console", "log" or "exception"
    level: str  # "error", "warning", "info", ...
    text: str


def _above_nine(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


class Browser:
    """One Chromium process; use as a context manager."""

    def __init__(self, executable: str = CHROMIUM, *, width: int = 1280, height: int = 900) -> None:
        if shutil.which(executable) is None:
            raise BrowserError(f"{executable} is not installed (scripts/setup installs it)")
        self._profile = tempfile.TemporaryDirectory(prefix="mailtls-chromium-")
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()
        # The protocol reads commands from fd 3 and writes replies to fd 4; a shell maps the
        # pipe ends there, moved above 9 first so that neither is 3 or 4 already.
        commands_read = _above_nine(commands_read)
        replies_write = _above_nine(replies_write)
        script = (
            f'exec "$@" 3<&{commands_read} 4>&{replies_write} {commands_read}<&- {replies_write}>&-'
        )
        self._process = subprocess.Popen(
            [
                "/bin/bash",
                "-c",
                script,
                "sh",
                executable,
                *FLAGS,
                f"--user-data-dir={self._profile.name}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            pass_fds=(commands_read, replies_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands_read)
        os.close(replies_write)
        self._buffer = b""
        self._next_id = 0
        self._session: str | None = None
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._process.poll() is None:
            # The browser may exit before it answers: that is the answer.
            with contextlib.suppress(BrowserError):
                self.command("Browser.close", session=False)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        os.close(self._commands)
        os.close(self._replies)
        self._profile.cleanup()

    # --- the protocol ------------------------------------------------------------------------

    def command(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = True
    ) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self._session is not None:
            message["sessionId"] = self._session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            if "method" in reply:
                self.events.append(reply)

    def _read(self) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._replies], [], [], max(left, 0))
            if not ready:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._replies, 1 << 16)
            if not chunk:
                raise BrowserError(f"Chromium exited (status {self._process.poll()})")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def _wait_for(self, method: str) -> dict[str, Any]:
        for index, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(index)
        while True:
            message = self._read()
            if message.get("method") == method:
                return message
            self.events.append(message)

    # --- what the tests use ------------------------------------------------------------------

    def open(self, path: Path) -> None:
        """Load a local file in a fresh tab and wait until it has loaded."""
        target = self.command("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.command(
            "Target.attachToTarget",
            {"targetId": target["targetId"], "flatten": True},
            session=False,
        )
        self._session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.command(f"{domain}.enable")
        self.command("Page.navigate", {"url": path.resolve().as_uri()})
        self._wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.command("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def console(self) -> list[ConsoleEntry]:
        # A round trip first, so that messages sent while loading have arrived.
        self.evaluate("1")
        entries: list[ConsoleEntry] = []
        for event in self.events:
            params = event.get("params", {})
            if event["method"] == "Runtime.consoleAPICalled":
                text = " ".join(
                    str(arg.get("value", arg.get("description", ""))) for arg in params["args"]
                )
                entries.append(ConsoleEntry("console", params["type"], text))
            elif event["method"] == "Log.entryAdded":
                entry = params["entry"]
                entries.append(ConsoleEntry("log", entry["level"], entry["text"]))
            elif event["method"] == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                entries.append(ConsoleEntry("exception", "error", details.get("text", "")))
        return entries

    def screenshot(self, destination: Path, *, full_page: bool = True) -> None:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["captureBeyondViewport"] = True
            params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
        data = self.command("Page.captureScreenshot", params)["data"]
        destination.write_bytes(base64.b64decode(data))

    def pdf(self, destination: Path) -> None:
        """Print the page as the browser would (print style sheet, A4)."""
        data = self.command("Page.printToPDF", {"printBackground": True})["data"]
        destination.write_bytes(base64.b64decode(data))
