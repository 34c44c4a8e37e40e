"""Where the log-producing servers keep their files, all below one folder per machine.

One folder for the whole machine, like the fleet's: the servers' addresses are machine-wide, so
two test runs must find the same lock (``lock_file``) and the same pid files of a server a
killed run may have left running. ``work_dir`` is wiped before every production; the finished
logs are copied out of it into the test run's own temporary folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

STATE_DIR = Path(os.environ.get("MAILTLS_TEST_MAILLOGS_DIR", "/tmp/mailtls-test-maillogs"))

# Where scripts/setup leaves Exim's Debian packages (Exim's package conflicts with Postfix's, so
# it is unpacked and run from a folder instead of installed).
EXIM_PACKAGE_CACHE = Path(
    os.environ.get("MAILTLS_TEST_PACKAGE_CACHE", "/var/cache/mailtls-test/exim")
)
EXIM_PACKAGES = ("exim4-base", "exim4-daemon-light")


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def lock_file(self) -> Path:
        """Held while the servers run: one production at a time on this machine."""
        return self.root / "production.lock"

    @property
    def supervisor_record(self) -> Path:
        """The running supervisor's process id, for the next run to stop if this one dies."""
        return self.root / "supervisor.pid"

    @property
    def work_dir(self) -> Path:
        return self.root / "work"

    @property
    def supervisor_spec(self) -> Path:
        return self.work_dir / "supervisor.json"

    @property
    def supervisor_log(self) -> Path:
        return self.work_dir / "supervisor.log"

    @property
    def certs_dir(self) -> Path:
        return self.work_dir / "certs"

    # Postfix: configuration apart from the queue (postfix-script warns about queue folders,
    # owned by the postfix user, below the configuration folder).
    @property
    def postfix_config_dir(self) -> Path:
        return self.work_dir / "postfix" / "etc"

    @property
    def postfix_queue_dir(self) -> Path:
        return self.work_dir / "postfix" / "spool"

    @property
    def postfix_data_dir(self) -> Path:
        return self.work_dir / "postfix" / "data"

    @property
    def postfix_log(self) -> Path:
        return self.work_dir / "postfix" / "maillog"

    @property
    def postfix_output(self) -> Path:
        return self.work_dir / "postfix" / "start-fg.out"

    @property
    def postfix_master_pid(self) -> Path:
        return self.postfix_queue_dir / "pid" / "master.pid"

    # Exim: the unpacked packages, its configuration, spool and logs. The spool and log
    # folders belong to the Debian-exim user, as Exim drops to it to receive and deliver.
    @property
    def exim_root(self) -> Path:
        return self.work_dir / "exim" / "root"

    @property
    def exim_binary(self) -> Path:
        return self.exim_root / "usr" / "sbin" / "exim4"

    @property
    def exim_config(self) -> Path:
        return self.work_dir / "exim" / "exim.conf"

    @property
    def exim_spool_dir(self) -> Path:
        return self.work_dir / "exim" / "spool"

    @property
    def exim_log_dir(self) -> Path:
        return self.work_dir / "exim" / "log"

    @property
    def exim_main_log(self) -> Path:
        return self.exim_log_dir / "mainlog"

    @property
    def exim_panic_log(self) -> Path:
        return self.exim_log_dir / "paniclog"

    @property
    def exim_pid_file(self) -> Path:
        return self.exim_spool_dir / "exim-daemon.pid"

    @property
    def exim_output(self) -> Path:
        return self.work_dir / "exim" / "daemon.out"
