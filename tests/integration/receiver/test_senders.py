"""Real senders against a receiver on loopback: swaks (Net::SSLeay) and Python's smtplib."""

from __future__ import annotations

import smtplib
import ssl
import subprocess
import warnings

import pytest

from mailtls.errors import StoreError
from mailtls.models import TlsVersion
from mailtls.receiver.models import SenderVerdict, SessionEnd
from mailtls.store import Store

from .running import ACCEPTED_DOMAIN, RunningReceiver

SWAKS = "/usr/bin/swaks"
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"  # OpenSSL 3 offers TLS 1.0/1.1 only at level 0


def swaks(receiver: RunningReceiver, client_ip: str, *options: str) -> str:
    completed = subprocess.run(
        [SWAKS, "--server", f"{receiver.ip}:{receiver.port}", "--local-interface", client_ip,
         "--from", "sender@client.example", "--to", f"someone@{ACCEPTED_DOMAIN}",
         "--helo", "client.example", "--timeout", "10", *options],
        capture_output=True, text=True, errors="replace", timeout=30, check=False,
    )  # fmt: skip
    return completed.stdout + completed.stderr


@pytest.mark.parametrize(
    "case",
    [
        ("127.0.9.101", "tlsv1_2", (), TlsVersion.TLS1_2, SenderVerdict.ACCEPTED),
        ("127.0.9.102", "tlsv1", ("--tls-cipher", LEGACY_CIPHERS), TlsVersion.TLS1_0,
         SenderVerdict.LEGACY_TLS),
        ("127.0.9.103", "tlsv1_1", ("--tls-cipher", LEGACY_CIPHERS), TlsVersion.TLS1_1,
         SenderVerdict.LEGACY_TLS),
        ("127.0.9.104", "tlsv1_3", (), TlsVersion.TLS1_3, SenderVerdict.ACCEPTED),
    ],
)  # fmt: skip
def test_swaks_versions(
    observing: RunningReceiver,
    case: tuple[str, str, tuple[str, ...], TlsVersion, SenderVerdict],
) -> None:
    client_ip, protocol, extra, version, verdict = case
    transcript = swaks(observing, client_ip, "--tls", "--tls-protocol", protocol, *extra)
    (record,) = observing.records(client_ip, 1)
    assert record.tls is not None, transcript
    assert record.tls.version is version
    assert record.verdict is verdict
    assert record.tls.before_command == "EHLO"
    assert record.helo == "client.example"
    assert record.end is SessionEnd.QUIT
    (message,) = record.messages
    assert message.recipients == (f"someone@{ACCEPTED_DOMAIN}",)
    assert message.size is not None
    assert message.size > 100
    assert message.headers.x_mailer is not None
    assert message.headers.x_mailer.startswith("swaks")
    assert (record.remedy is None) is (verdict is SenderVerdict.ACCEPTED)


def test_swaks_tls10_without_level_0_fails_and_is_recorded(observing: RunningReceiver) -> None:
    # Net::SSLeay under OpenSSL 3 cannot sign a TLS 1.0 handshake at its default level.
    swaks(observing, "127.0.9.105", "--tls", "--tls-protocol", "tlsv1")
    (record,) = observing.records("127.0.9.105", 1)
    assert record.verdict is SenderVerdict.HANDSHAKE_FAILED
    assert record.end is SessionEnd.TLS_FAILED
    assert record.tls is not None
    assert record.tls.error


def _legacy_client_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def test_smtplib_plaintext_and_starttls_with_sni(observing: RunningReceiver) -> None:
    with smtplib.SMTP(observing.ip, observing.port, source_address=("127.0.9.106", 0)) as smtp:
        smtp.sendmail("a@client.example", [f"x@{ACCEPTED_DOMAIN}"], b"Subject: plain\r\n\r\nhi\r\n")
    with smtplib.SMTP(
        observing.ip,
        observing.port,
        local_hostname="sni-client.example",
        source_address=("127.0.9.107", 0),
    ) as smtp:
        context = _legacy_client_context()
        # smtplib sends SNI from the host it was given; name it explicitly.
        smtp._host = "rx.test"  # type: ignore[attr-defined]
        smtp.starttls(context=context)
        smtp.sendmail("a@client.example", [f"x@{ACCEPTED_DOMAIN}"], b"Subject: tls\r\n\r\nhi\r\n")
    (plain,) = observing.records("127.0.9.106", 1)
    assert plain.tls is None
    assert plain.verdict is SenderVerdict.PLAINTEXT
    assert plain.messages[0].headers.subject == "plain"
    assert plain.remedy is not None
    (secure,) = observing.records("127.0.9.107", 1)
    assert secure.tls is not None
    assert secure.tls.version is TlsVersion.TLS1_3
    assert secure.tls.sni == "rx.test"
    assert secure.helo == "sni-client.example"
    assert secure.verdict is SenderVerdict.ACCEPTED


def test_smtplib_tls10(observing: RunningReceiver) -> None:
    context = _legacy_client_context()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "ssl.TLSVersion.TLSv1", DeprecationWarning)
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("ECDHE-RSA-AES256-SHA:@SECLEVEL=0")
    with smtplib.SMTP(observing.ip, observing.port, source_address=("127.0.9.108", 0)) as smtp:
        smtp.starttls(context=context)
        smtp.sendmail("a@client.example", [f"x@{ACCEPTED_DOMAIN}"], b"Subject: old\r\n\r\nhi\r\n")
    (record,) = observing.records("127.0.9.108", 1)
    assert record.tls is not None
    assert record.tls.version is TlsVersion.TLS1_0
    assert record.tls.cipher == "ECDHE-RSA-AES256-SHA"
    assert record.verdict is SenderVerdict.LEGACY_TLS


def test_exo_policy_refuses_tls10(exo: RunningReceiver) -> None:
    transcript = swaks(
        exo, "127.0.9.109", "--tls", "--tls-protocol", "tlsv1", "--tls-cipher", LEGACY_CIPHERS
    )
    assert "TLS startup failed" in transcript
    (record,) = exo.records("127.0.9.109", 1)
    assert record.verdict is SenderVerdict.HANDSHAKE_FAILED
    swaks(exo, "127.0.9.110", "--tls", "--tls-protocol", "tlsv1_2")
    (modern,) = exo.records("127.0.9.110", 1)
    assert modern.verdict is SenderVerdict.ACCEPTED


def test_require_tls_answers_530(requiring_tls: RunningReceiver) -> None:
    with (
        smtplib.SMTP(
            requiring_tls.ip, requiring_tls.port, source_address=("127.0.9.111", 0)
        ) as smtp,
        pytest.raises(smtplib.SMTPSenderRefused) as refused,
    ):
        smtp.sendmail("a@client.example", [f"x@{ACCEPTED_DOMAIN}"], b"Subject: x\r\n\r\nhi\r\n")
    assert refused.value.smtp_code == 530
    (record,) = requiring_tls.records("127.0.9.111", 1)
    assert record.verdict is SenderVerdict.PLAINTEXT


def test_a_recorded_session_reads_back_by_its_id(observing: RunningReceiver) -> None:
    client_ip = "127.0.9.112"
    swaks(observing, client_ip, "--tls")
    (record,) = observing.records(client_ip, 1)
    with Store(str(observing.database)) as store:
        ((record_id, listed),) = store.received_sessions(client_ip=client_ip)
        assert store.received_session(record_id) == listed == record
        with pytest.raises(StoreError, match=f"there is no received session {record_id + 10**6}"):
            store.received_session(record_id + 10**6)
