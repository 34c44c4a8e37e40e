"""The two servers the receive benchmark compares, started by the benchmark itself.

- Postfix's smtpd: an instance with a config folder of its own, STARTTLS with the benchmark's
  certificate, accepting mail for the test domain and delivering it to ``discard:``.
- ``mailtls receive``: the console script, with the same certificate, recording every session in
  a store of its own.

Both get the processor time they used (``cpu_seconds``), read from /proc, so that figures taken on
a shared machine can be compared per session as well as per second of wall time.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.integration.fleet.postfix import INTERNAL_SERVICES

from mailtls.store import Store

POSTFIX = "/usr/sbin/postfix"
ACCEPTED_DOMAIN = "bench.example"
SERVER_NAME = "mx.bench.example"
# Postfix's own client limits would refuse the load (they exempt mynetworks anyway); it gets
# enough smtpd processes for every session the client holds open.
POSTFIX_MAX_PROCESSES = 300
_TICKS = os.sysconf("SC_CLK_TCK")


class ServerError(Exception):
    """A server did not start."""


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # fields from the state on (field 3)


def _own_and_reaped_ticks(pid: int) -> int:
    fields = _stat_fields(pid)
    # utime, stime, cutime, cstime are fields 14-17; the list starts at field 3.
    return sum(int(value) for value in fields[11:15])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat_fields(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue  # the process ended while being read
    return found


def process_tree_cpu_seconds(pid: int) -> float:
    """Processor time of a process, its live children and the children it has reaped.

    A child that ends during a measurement moves its whole time into its parent's reaped time,
    so the difference of two readings is the work done between them.
    """
    ticks = _own_and_reaped_ticks(pid)
    for child in _children(pid):
        try:
            ticks += _own_and_reaped_ticks(child)
        except (OSError, ValueError, IndexError):
            continue
    return ticks / _TICKS


# --- Postfix ----------------------------------------------------------------------------------


def postfix_main_cf(work: Path, certificate: Path, key: Path) -> str:
    settings = {
        "compatibility_level": "3.6",
        "queue_directory": str(work / "spool"),
        "data_directory": str(work / "data"),
        "maillog_file": str(work / "maillog"),
        "maillog_file_prefixes": str(work),  # a log file outside /var is refused otherwise
        "myhostname": SERVER_NAME,
        "inet_interfaces": "loopback-only",
        "inet_protocols": "ipv4",
        "mynetworks": "127.0.0.0/8",
        "mydestination": "",
        "relay_domains": ACCEPTED_DOMAIN,
        "transport_maps": "inline:{ " + ACCEPTED_DOMAIN + "=discard: }",
        "local_recipient_maps": "",
        "alias_maps": "",
        "alias_database": "",
        "smtpd_peername_lookup": "no",  # the receiver looks up no names either
        "smtp_dns_support_level": "disabled",
        "smtpd_tls_security_level": "may",
        "smtpd_tls_chain_files": f"{key}, {certificate}",
        "smtpd_tls_loglevel": "1",
        "default_process_limit": str(POSTFIX_MAX_PROCESSES),
        "smtpd_client_connection_count_limit": "0",
        "smtpd_client_connection_rate_limit": "0",
        "smtpd_client_message_rate_limit": "0",
        # No throttling of smtpd when the queue manager falls behind: Postfix at full speed.
        "in_flow_delay": "0",
        "biff": "no",
    }
    return "".join(f"{name} = {value}\n" for name, value in settings.items())


def postfix_master_cf(ip: str) -> str:
    return f"{ip}:25 inet n - n - {POSTFIX_MAX_PROCESSES} smtpd\n" + INTERNAL_SERVICES


@dataclass
class PostfixInstance:
    work: Path
    ip: str

    @property
    def config(self) -> Path:
        return self.work / "etc"

    @property
    def log(self) -> Path:
        return self.work / "maillog"

    def start(self, certificate: Path, key: Path) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
        self.config.mkdir(parents=True)
        (self.work / "spool").mkdir()
        cooled = time.time() - 60  # Postfix rereads a main.cf younger than a second
        for name, text in (
            ("main.cf", postfix_main_cf(self.work, certificate, key)),
            ("master.cf", postfix_master_cf(self.ip)),
        ):
            (self.config / name).write_text(text)
            os.utime(self.config / name, (cooled, cooled))
        started = subprocess.run(
            [POSTFIX, "-c", str(self.config), "start"], capture_output=True, text=True, check=False
        )
        if started.returncode != 0:
            raise ServerError(f"postfix did not start: {started.stderr.strip()}")
        deadline = time.monotonic() + 15
        while not self._pid_file().is_file():
            if time.monotonic() > deadline:
                raise ServerError("postfix's master wrote no pid file")
            time.sleep(0.05)

    def _pid_file(self) -> Path:
        return self.work / "spool" / "pid" / "master.pid"

    def master_pid(self) -> int:
        return int(self._pid_file().read_text().split()[0])

    def cpu_seconds(self) -> float:
        return process_tree_cpu_seconds(self.master_pid())

    def delivered(self) -> int:
        """Messages the discard transport took ("status=sent"), from Postfix's own log."""
        text = self.log.read_text(errors="replace") if self.log.is_file() else ""
        return len(re.findall(r"postfix/discard\[\d+\]: \w+: to=<[^>]*>.* status=sent", text))

    def stop(self) -> None:
        subprocess.run([POSTFIX, "-c", str(self.config), "stop"], capture_output=True, check=False)

    @staticmethod
    def version() -> str:
        result = subprocess.run(
            ["postconf", "-d", "-h", "mail_version"], capture_output=True, text=True, check=False
        )
        return result.stdout.strip()


# --- mailtls receive --------------------------------------------------------------------------

# The caps the benchmark raises: per address, because the load comes from one address per
# phase; every other limit stays at its default.
RECEIVER_CAP_OPTIONS = ("--max-per-ip", "1000", "--max-per-ip-per-minute", "1000000")


@dataclass
class ReceiverProcess:
    work: Path
    ip: str
    command: tuple[str, ...]  # the console script (or python -m mailtls.cli)
    profile: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def database(self) -> Path:
        return self.work / "receiver.sqlite"

    @property
    def stderr_path(self) -> Path:
        return self.work / "receiver.err"

    def argv(self, certificate: Path, key: Path) -> list[str]:
        return [
            *self.command,
            "receive",
            "--listen", f"{self.ip}:25",
            "--accept", ACCEPTED_DOMAIN,
            "--hostname", SERVER_NAME,
            "--cert", str(certificate),
            "--key", str(key),
            "--db", str(self.database),
            *RECEIVER_CAP_OPTIONS,
        ]  # fmt: skip

    def start(self, certificate: Path, key: Path) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        argv = self.argv(certificate, key)
        if self.profile is not None:  # the same program under cProfile (the main thread only)
            argv = ["python3", "-m", "cProfile", "-o", str(self.profile), "-m", "mailtls.cli"]
            argv += self.argv(certificate, key)[len(self.command) :]
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
            )
        deadline = time.monotonic() + 20
        while b"receiving on" not in self.stderr_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise ServerError(f"mailtls receive did not start: {self.stderr_path.read_text()}")
            time.sleep(0.05)

    def cpu_seconds(self) -> float:
        assert self.process is not None
        return process_tree_cpu_seconds(self.process.pid)

    def recorded(self, client_ip: str | None = None) -> tuple[int, int]:
        """Sessions stored (from ``client_ip``), and how many of them hold an accepted message."""
        with Store(str(self.database)) as store:
            records = [record for _, record in store.received_sessions(client_ip=client_ip)]
        accepted = sum(
            any(message.reply.startswith("250") for message in record.messages)
            for record in records
        )
        return len(records), accepted

    def stop(self) -> str:
        """Stop it (SIGTERM: every queued record is written first); its last words."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.stderr_path.read_text() if self.stderr_path.is_file() else ""
