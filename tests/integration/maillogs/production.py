"""Produce the logs once per test run: start the servers, send the plan, wait, stop, keep the logs.

``obtain(shared_dir)`` is what the fixture calls from every pytest process of a run (each xdist
worker): the first one produces the logs under a lock in the run's shared folder, the others
find them there (or the reason they could not be made). Production itself holds a second,
machine-wide lock, because the servers' addresses are machine-wide.

The servers stop as soon as the logs are complete, long before the session ends; the logs are
copied out of the server's work folder, so a later run cannot change them under a test.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mailtls.models import LogFormat

from . import exim_config, postfix_config, servers, swaks
from .plan import POSTFIX_LOGIN, POSTFIX_SUBMISSION, SESSIONS, Session, expected_table
from .result import MailLogs, MailLogsError
from .sasl import AuthServer
from .workspace import STATE_DIR, Workspace

DELIVERY_TIMEOUT = 60.0
PARALLEL_CLIENTS = 4
POSTFIX_LOG_NAME = "postfix.log"
EXIM_LOG_NAME = "exim-mainlog"
_DONE = "done.json"
_FAILED = "failed.txt"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def describe(directory: Path) -> MailLogs:
    return MailLogs(
        directory=directory,
        postfix_log=directory / POSTFIX_LOG_NAME,
        exim_log=directory / EXIM_LOG_NAME,
        sessions=SESSIONS,
        expected=expected_table(SESSIONS),
    )


def obtain(shared_dir: Path, state_dir: Path = STATE_DIR) -> MailLogs:
    """The run's logs in ``shared_dir/maillogs``, produced by whichever process comes first."""
    directory = shared_dir / "maillogs"
    with _locked(shared_dir / "maillogs.lock"):
        if (directory / _DONE).is_file():
            return describe(directory)
        if (directory / _FAILED).is_file():
            raise MailLogsError((directory / _FAILED).read_text())
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        try:
            logs = produce(directory, Workspace(state_dir))
        except (MailLogsError, servers.ServersError) as problem:
            (directory / _FAILED).write_text(str(problem))
            raise MailLogsError(str(problem)) from problem
        (directory / _DONE).write_text(
            json.dumps({fmt.value: str(path) for fmt, path in logs.logs.items()}, indent=2)
        )
        return logs


def produce(directory: Path, workspace: Workspace) -> MailLogs:
    servers.check_prerequisites()
    with _locked(workspace.lock_file):
        servers.clear_leftovers(workspace)
        servers.check_addresses_free()
        with AuthServer(POSTFIX_LOGIN, host=POSTFIX_SUBMISSION.ip) as authenticator:
            children = servers.prepare(workspace, authenticator.postfix_path)
            supervisor = servers.start(workspace, children)
            try:
                _send(SESSIONS)
                _wait_until_done(workspace, SESSIONS)
                _check_all_delivered(workspace)
            except MailLogsError as problem:
                raise MailLogsError(f"{problem}\n{servers.diagnostics(workspace)}") from None
            finally:
                servers.stop(workspace, supervisor)
        logs = describe(directory)
        shutil.copyfile(workspace.postfix_log, logs.postfix_log)
        shutil.copyfile(workspace.exim_main_log, logs.exim_log)
    return logs


def _send(sessions: tuple[Session, ...]) -> None:
    with ThreadPoolExecutor(max_workers=PARALLEL_CLIENTS) as pool:
        runs = list(pool.map(swaks.run, sessions))
    failed = [run for run in runs if not run.succeeded]
    if failed:
        raise MailLogsError(
            f"{len(failed)} of {len(runs)} sessions failed:\n"
            + "\n".join(run.describe() for run in failed)
        )


def _count_lines(path: Path, marker: str) -> int:
    try:
        with open(path, errors="replace") as lines:
            return sum(marker in line for line in lines)
    except FileNotFoundError:
        return 0


def _queue_empty(argv: list[str], *, counts: bool) -> bool:
    listing = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=10)
    if listing.returncode != 0:
        return False
    text = listing.stdout.strip()
    return text == "0" if counts else text == ""


def _wait_until_done(workspace: Workspace, sessions: tuple[Session, ...]) -> None:
    """Until both queues are empty and Postfix has logged the end of every session.

    swaks exits on the server's reply to QUIT, a moment before smtpd writes its ``disconnect``
    line; stopping Postfix then could lose that line. Exim writes ``Completed`` once per message
    when its last recipient is delivered.
    """
    postfix_sessions = sum(session.mta is LogFormat.POSTFIX for session in sessions)
    exim_messages = sum(
        session.mta is LogFormat.EXIM and bool(session.recipients) for session in sessions
    )
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while True:
        disconnects = _count_lines(workspace.postfix_log, "]: disconnect from ")
        completed = _count_lines(workspace.exim_main_log, " Completed")
        if (
            disconnects >= postfix_sessions
            and completed >= exim_messages
            and _queue_empty(postfix_config.queue_command(workspace), counts=False)
            and _queue_empty(exim_config.queue_count_command(workspace), counts=True)
        ):
            return
        if time.monotonic() > deadline:
            raise MailLogsError(
                f"not done after {DELIVERY_TIMEOUT:.0f}s: {disconnects} of {postfix_sessions} "
                f"Postfix sessions ended, {completed} of {exim_messages} Exim messages completed "
                "(or a queue is not empty)"
            )
        time.sleep(0.1)


# A recipient that was not delivered: Postfix's status=bounced/deferred, Exim's "**" (failed)
# and "==" (deferred) lines. The plan counts every recipient as delivered.
_UNDELIVERED = {
    "Postfix": (" status=bounced ", " status=deferred ", " status=undeliverable "),
    "Exim": (" ** ", " == "),
}


def _check_all_delivered(workspace: Workspace) -> None:
    problems = []
    for mta, path in (("Postfix", workspace.postfix_log), ("Exim", workspace.exim_main_log)):
        with open(path, errors="replace") as lines:
            problems += [
                f"{mta}: {line.rstrip()}"
                for line in lines
                if any(marker in line for marker in _UNDELIVERED[mta])
            ]
    if problems:
        raise MailLogsError("not every recipient was delivered:\n" + "\n".join(problems))
