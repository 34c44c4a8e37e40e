"""Each planned session as one ``swaks`` run: the command line (pure) and running it.

swaks pins the client address (``--local-interface``), the one TLS version it offers
(``--tls-protocol``; TLS 1.0/1.1 also need ``--tls-cipher 'DEFAULT:@SECLEVEL=0'`` under OpenSSL
3) and, for submission clients, AUTH PLAIN. It ends every session with QUIT, also when told to
stop early (``--quit-after``), so the servers see an orderly end of each session.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from mailtls.models import TlsVersion

from .plan import Session

SWAKS = "/usr/bin/swaks"
TIMEOUT = 30.0

_PROTOCOL = {
    TlsVersion.TLS1_0: "tlsv1",
    TlsVersion.TLS1_1: "tlsv1_1",
    TlsVersion.TLS1_2: "tlsv1_2",
    TlsVersion.TLS1_3: "tlsv1_3",
}
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"


def command(session: Session) -> list[str]:
    server = session.server
    argv = [
        SWAKS,
        "--server",
        f"{server.ip}:{server.port}",
        "--local-interface",
        session.client_ip,
        "--helo",
        session.helo,
        "--from",
        session.sender,
        "--timeout",
        "20",
    ]
    if session.recipients:
        argv += ["--to", ",".join(session.recipients)]
    else:
        # Stopping before RCPT, swaks needs no recipient.
        argv += ["--quit-after", "TLS" if session.tls else "EHLO"]
    if session.tls is not None:
        argv += ["--tls", "--tls-protocol", _PROTOCOL[session.tls]]
        if session.tls.rank < TlsVersion.TLS1_2.rank:
            argv += ["--tls-cipher", LEGACY_CIPHERS]
    if session.login is not None:
        argv += [
            "--auth",
            "PLAIN",
            "--auth-user",
            session.login.user,
            "--auth-password",
            session.login.password,
        ]
    return argv


@dataclass(frozen=True)
class SwaksRun:
    session: Session
    returncode: int
    transcript: str

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        tail = "\n".join(self.transcript.splitlines()[-12:])
        return f"swaks for {self.session} exited with {self.returncode}:\n{tail}"


def run(session: Session) -> SwaksRun:
    try:
        completed = subprocess.run(
            command(session),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as timeout:
        return SwaksRun(session, -1, f"timed out after {TIMEOUT:.0f}s: {timeout.output!r}")
    return SwaksRun(session, completed.returncode, completed.stdout + completed.stderr)
