"""Hostile clients: the caps hold, the receiver stays up, and every session is recorded."""

from __future__ import annotations

import smtplib
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from mailtls.receiver.models import SenderVerdict, SessionEnd

from .running import ACCEPTED_DOMAIN, RunningReceiver


def _connect(receiver: RunningReceiver, client_ip: str) -> socket.socket:
    sock = socket.create_connection(
        (receiver.ip, receiver.port), timeout=10, source_address=(client_ip, 0)
    )
    return sock


def _read_reply(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\r\n") or data.splitlines()[-1][3:4] == b"-":
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_relay_attempts_refused(observing: RunningReceiver) -> None:
    relayed = ["victim@elsewhere.example", f"x@sub.{ACCEPTED_DOMAIN}", f"x@{ACCEPTED_DOMAIN}.evil"]
    with (
        smtplib.SMTP(observing.ip, observing.port, source_address=("127.0.9.121", 0)) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused),
    ):
        smtp.sendmail("a@client.example", relayed, b"Subject: relay\r\n\r\nhi\r\n")
    (record,) = observing.records("127.0.9.121", 1)
    (message,) = record.messages
    assert message.recipients == ()
    assert len(message.refused_recipients) == 3
    assert message.size is None  # DATA never ran


def test_oversize_and_too_many_recipients(observing: RunningReceiver) -> None:
    with smtplib.SMTP(observing.ip, observing.port, source_address=("127.0.9.122", 0)) as smtp:
        big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 150
        smtp.ehlo()
        smtp.esmtp_features.pop("size", None)  # send it anyway, past the announced SIZE
        with pytest.raises(smtplib.SMTPDataError) as too_big:
            smtp.sendmail("a@client.example", [f"x@{ACCEPTED_DOMAIN}"], big)
        assert too_big.value.smtp_code == 552
        smtp.rset()
        smtp.mail("a@client.example")
        codes = [smtp.rcpt(f"r{n}@{ACCEPTED_DOMAIN}")[0] for n in range(8)]
        assert codes == [250] * 5 + [452] * 3
    (record,) = observing.records("127.0.9.122", 1)
    assert record.messages[0].size is not None
    assert record.messages[0].size > 100_000
    assert record.messages[0].reply.startswith("552")
    assert len(record.messages[1].recipients) == 5


def test_silent_client_timed_out(observing: RunningReceiver) -> None:
    with _connect(observing, "127.0.9.123") as sock:
        assert _read_reply(sock).startswith(b"220")
        started = time.monotonic()
        assert sock.recv(4096) == b""  # the receiver closes it after the idle timeout
        assert time.monotonic() - started < 6
    (record,) = observing.records("127.0.9.123", 1)
    assert record.end is SessionEnd.IDLE_TIMEOUT
    assert record.verdict is SenderVerdict.NO_MAIL


def test_megabyte_command_line_and_garbage(observing: RunningReceiver) -> None:
    with _connect(observing, "127.0.9.124") as sock:
        _read_reply(sock)
        sock.sendall(b"EHLO " + b"a" * 1024 * 1024 + b"\r\n")
        assert _read_reply(sock).startswith(b"500")
        sock.sendall(
            b"\x16\x03\x01\x02\x00garbage\r\nGET / HTTP/1.1\r\nFOO\r\nBAR\r\nBAZ\r\nQUX\r\n"
        )
        time.sleep(0.5)
    (record,) = observing.records("127.0.9.124", 1)
    assert record.helo is None
    assert observing.alive()


def test_parallel_connections_capped(observing: RunningReceiver) -> None:
    client_ip = "127.0.9.125"
    attempts = 40

    def hold() -> bytes:
        with _connect(observing, client_ip) as sock:
            greeting = _read_reply(sock)
            time.sleep(0.5)
            sock.sendall(b"QUIT\r\n")
            _read_reply(sock)
            return greeting

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        greetings = list(pool.map(lambda _: hold(), range(attempts)))
    admitted = [g for g in greetings if g.startswith(b"220")]
    refused = [g for g in greetings if g.startswith(b"421")]
    assert len(admitted) + len(refused) == attempts
    assert 1 <= len(admitted) <= 5  # --max-per-ip 5
    records = observing.records(client_ip, attempts)
    assert len(records) == attempts  # no session goes unrecorded
    assert sum(r.end is SessionEnd.CONNECTION_CAP for r in records) == len(refused)
    # still serving
    with smtplib.SMTP(observing.ip, observing.port, source_address=("127.0.9.126", 0)) as smtp:
        assert smtp.noop()[0] == 250
