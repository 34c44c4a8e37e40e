"""A real Postfix as sender: modern, TLS 1.0 only, and TLS 1.0 only against the exo policy."""

from __future__ import annotations

import smtplib
import tempfile
import time
from pathlib import Path

from mailtls.models import TlsVersion
from mailtls.receiver.models import SenderVerdict

from .postfix_client import SUBMIT_IP, Route, running_postfix
from .running import ACCEPTED_DOMAIN, RunningReceiver


def test_postfix_senders(observing: RunningReceiver, exo: RunningReceiver) -> None:
    # Postfix's daemons (as the postfix user) must reach the folder: pytest's is root-only;
    # running_postfix removes it.
    work = Path(tempfile.mkdtemp(prefix="mailtls-receiver-postfix-"))
    work.chmod(0o755)
    to_observe = f"[{observing.ip}]:{observing.port}"
    to_exo = f"[{exo.ip}]:{exo.port}"
    routes = (
        Route(f"modern@{ACCEPTED_DOMAIN}", "smtp-modern", "127.0.9.131", ">=TLSv1", "may",
              to_observe),
        Route(f"legacy@{ACCEPTED_DOMAIN}", "smtp-tlsv1", "127.0.9.132", "TLSv1", "may",
              to_observe),
        Route(f"fallback@{ACCEPTED_DOMAIN}", "smtp-tlsv1-may", "127.0.9.133", "TLSv1", "may",
              to_exo),
        Route(f"forced@{ACCEPTED_DOMAIN}", "smtp-tlsv1-encrypt", "127.0.9.134", "TLSv1",
              "encrypt", to_exo),
    )  # fmt: skip
    with running_postfix(work, routes) as maillog:
        deadline = time.monotonic() + 15
        while True:
            try:
                smtp = smtplib.SMTP(SUBMIT_IP, 25, timeout=10)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with smtp:
            for route in routes:
                smtp.sendmail(
                    "admin@client.example", [route.recipient], b"Subject: test\r\n\r\nhi\r\n"
                )
        (modern,) = observing.records("127.0.9.131", 1, timeout=20)
        (legacy,) = observing.records("127.0.9.132", 1, timeout=20)
        fallback = exo.records("127.0.9.133", 1, timeout=20)
        forced = exo.records("127.0.9.134", 1, timeout=20)
        log = maillog.read_text(errors="replace") if maillog.exists() else ""
    assert modern.tls is not None, log
    assert modern.tls.version is TlsVersion.TLS1_3
    assert modern.verdict is SenderVerdict.ACCEPTED
    assert modern.product.product == "postfix"
    assert legacy.tls is not None, log
    assert legacy.tls.version is TlsVersion.TLS1_0
    assert legacy.verdict is SenderVerdict.LEGACY_TLS
    assert legacy.product.product == "postfix"
    assert legacy.remedy is not None
    assert legacy.remedy.product == "postfix"
    # Both ways Postfix 3.7 defers after the failed handshake ("Cannot start TLS: handshake
    # failure", dsn 4.7.5) instead of retrying in plaintext at once: nothing is delivered.
    for records in (fallback, forced):
        assert records, log
        assert all(r.verdict is SenderVerdict.HANDSHAKE_FAILED for r in records)
        assert all(not r.messages for r in records)
    assert log.count("status=deferred (Cannot start TLS: handshake failure)") == 2, log
