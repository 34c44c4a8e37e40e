"""Real Postfix log lines, to copy the exact shapes the log generator writes.

Run from the repository root, as root, after ``scripts/setup``::

    python3 -m bench.capture_postfix_lines [--output bench/samples/postfix-3.7.log]

It starts the integration tests' fleet (the far ends: one listener per TLS posture) and a Postfix
instance of its own on 127.0.9.1 that logs what a real mail relay logs: inbound sessions on port
25 over TLS 1.0 to 1.3 and in plaintext (driven by swaks from many client addresses), SMTP AUTH
submissions on port 587, and outbound deliveries to the fleet's listeners over TLS 1.0 to 1.3 and
in plaintext. Authentication is answered by a minimal Dovecot auth server (the protocol Postfix's
``smtpd_sasl_type = dovecot`` speaks), so no Dovecot or Cyrus SASL set-up is needed.

The log it writes is committed as ``bench/samples/postfix-3.7.log``; ``generate_postfix_log``
writes only line shapes that occur in it (``python3 -m bench.generate_postfix_log --check``).
Nothing leaves loopback: the fleet discards every message it accepts.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, cast

from tests.integration.fleet import FleetError, acquire

from bench.machine import REPOSITORY

WORK = REPOSITORY / "bench" / ".work" / "capture"
DEFAULT_OUTPUT = REPOSITORY / "bench" / "samples" / "postfix-3.7.log"
RELAY_IP = "127.0.9.1"  # the capturing instance: "mx1.example.org"
CLIENTS = [f"127.0.7.{n}" for n in range(1, 13)]  # swaks's source addresses: distinct peers
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"  # OpenSSL 3 negotiates TLS 1.0/1.1 only at level 0
# A TLS 1.2 client offering only a cipher without encryption, which no server enables.
NO_SHARED_CIPHER = ["--tls-protocol", "tlsv1_2", "--tls-cipher", "NULL-SHA:@SECLEVEL=0"]

# Recipient domain -> how the relay delivers it: the transport (below) and the fleet listener.
DESTINATIONS = {
    "modern.example": "smtp:[127.0.2.1]:25",  # TLS 1.3, trusted
    "tls12.example": "smtp:[127.0.2.2]:25",  # TLS 1.2
    "legacy.example": "smtp:[127.0.2.3]:25",  # TLS 1.1 (the listener has TLS 1.0 and 1.1 only)
    "legacy10.example": "smtp-tls10:[127.0.2.3]:25",  # TLS 1.0
    "plain.example": "smtp:[127.0.2.4]:25",  # no STARTTLS: plaintext
    "selfsigned.example": "smtp:[127.0.2.7]:25",  # TLS 1.3, untrusted certificate
    "untrusted12.example": "smtp-untrusted:[127.0.2.2]:25",  # TLS 1.2, not verified
    "untrusted11.example": "smtp-untrusted:[127.0.2.3]:25",  # TLS 1.1, not verified
    "untrusted10.example": "smtp-untrusted10:[127.0.2.3]:25",  # TLS 1.0, not verified
    "down.example": "smtp:[127.0.9.99]:25",  # nobody listens: a deferred delivery
}
LOCAL_DOMAIN = "example.org"  # delivered here, by Postfix's virtual delivery agent
NOBODY = 65534  # owner of the delivered mail


def _main_cf(work: Path, ca_file: Path) -> str:
    transport = ", ".join(f"{domain}={route}" for domain, route in DESTINATIONS.items())
    settings = {
        "compatibility_level": "3.6",
        "queue_directory": str(work / "spool"),
        "data_directory": str(work / "data"),
        "maillog_file": str(work / "maillog"),
        "maillog_file_prefixes": str(work),
        "myhostname": "mx1.example.org",
        "mydomain": "example.org",
        "myorigin": "$mydomain",
        "inet_interfaces": "loopback-only",
        "inet_protocols": "ipv4",
        "mynetworks": "127.0.0.1/32",  # swaks's 127.0.7.x are outside: real peers
        "mydestination": "",
        "relay_domains": ", ".join(DESTINATIONS),
        "virtual_mailbox_domains": LOCAL_DOMAIN,
        "virtual_mailbox_base": str(work / "mail"),
        "virtual_mailbox_maps": f"inline:{{ @{LOCAL_DOMAIN}={LOCAL_DOMAIN}/ }}",
        "virtual_uid_maps": f"static:{NOBODY}",
        "virtual_gid_maps": f"static:{NOBODY}",
        "virtual_minimum_uid": "100",
        "transport_maps": f"inline:{{ {transport} }}",
        "local_recipient_maps": "",
        "alias_maps": "",
        "alias_database": "",
        "smtpd_relay_restrictions": "permit_sasl_authenticated, reject_unauth_destination",
        "smtpd_peername_lookup": "no",
        "smtp_dns_support_level": "disabled",
        "smtpd_tls_security_level": "may",
        "smtpd_tls_loglevel": "1",
        "smtpd_tls_protocols": ">=TLSv1",
        "smtp_tls_security_level": "may",
        "smtp_tls_loglevel": "1",
        "smtp_tls_protocols": ">=TLSv1",
        "smtp_tls_CAfile": str(ca_file),
        "tls_medium_cipherlist": LEGACY_CIPHERS,
        "smtpd_sasl_type": "dovecot",
        "smtpd_sasl_path": str(work / "auth"),
        "biff": "no",
        "append_dot_mydomain": "no",
        "readme_directory": "no",
    }
    return "".join(f"{name} = {value}\n" for name, value in settings.items())


def _master_cf(chain_file: Path) -> str:
    return f"""\
{RELAY_IP}:25 inet n - n - - smtpd
  -o smtpd_tls_chain_files={chain_file}
{RELAY_IP}:587 inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_chain_files={chain_file}
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
smtp-tls10 unix -       -       n       -       -       smtp
  -o smtp_tls_protocols=>=TLSv1,<=TLSv1
smtp-untrusted unix -   -       n       -       -       smtp
  -o smtp_tls_CAfile=
smtp-untrusted10 unix - -       n       -       -       smtp
  -o smtp_tls_CAfile=
  -o smtp_tls_protocols=>=TLSv1,<=TLSv1
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


# --- a Dovecot auth server that says yes ------------------------------------------------------


def _answer_auth(connection: socket.socket) -> None:
    """Dovecot's auth protocol (doc/auth-protocol.txt), just enough for Postfix's client."""
    with connection, connection.makefile("rwb", buffering=0) as socket_file:
        stream = cast(BinaryIO, socket_file)
        stream.write(
            b"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n"
            b"SPID\t1\nCUID\t1\nCOOKIE\t" + b"0" * 32 + b"\nDONE\n"
        )
        for request_line in stream:
            fields = request_line.rstrip(b"\n").split(b"\t")
            if fields[0] == b"AUTH":
                request = fields[1]
                response = next((f[5:] for f in fields if f.startswith(b"resp=")), None)
                if response is None:
                    stream.write(b"CONT\t" + request + b"\t\n")
                    continue
                _reply_ok(stream, request, response)
            elif fields[0] == b"CONT":
                _reply_ok(stream, fields[1], fields[2] if len(fields) > 2 else b"")


def _reply_ok(stream: BinaryIO, request: bytes, response: bytes) -> None:
    # PLAIN: authzid NUL authcid NUL password; the user is the authcid.
    try:
        user = base64.b64decode(response).split(b"\x00")[1]
    except (ValueError, IndexError):
        user = b"unknown"
    stream.write(b"OK\t" + request + b"\tuser=" + user + b"\n")


def _serve_auth(path: Path) -> socket.socket:
    path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    os.chmod(path, 0o666)  # smtpd runs as the postfix user
    server.listen()

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return  # closed at the end of the capture
            threading.Thread(target=_answer_auth, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return server


# --- driving it --------------------------------------------------------------------------------


def _swaks(*arguments: str) -> None:
    command = ["swaks", "--hide-all", "--timeout", "10", "--server", RELAY_IP, *arguments]
    try:
        subprocess.run(
            command,
            check=False,
            timeout=30,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        print(f"capture: swaks did not finish: {' '.join(arguments)}", file=sys.stderr)


def _drive() -> None:
    versions = ["tlsv1", "tlsv1_1", "tlsv1_2", "tlsv1_3"]
    domains = list(DESTINATIONS)
    for number, client in enumerate(CLIENTS):
        domain = domains[number % len(domains)]
        common = ["--local-interface", client, "--from", f"sender{number}@peer{number}.example"]
        common += ["--to", f"user{number}@{domain}", "--tls-cipher", LEGACY_CIPHERS]
        if number % 5 == 4:
            _swaks(*common)  # plaintext
        else:
            _swaks(*common, "--tls", "--tls-protocol", versions[number % 4])
    # Submission: authenticated users, TLS required on the port.
    for number, version in enumerate(["tlsv1_2", "tlsv1_3", "tlsv1"]):
        _swaks(
            "--port",
            "587",
            "--local-interface",
            CLIENTS[number],
            "--tls",
            "--tls-protocol",
            version,
            "--tls-cipher",
            LEGACY_CIPHERS,
            "--auth",
            "PLAIN",
            "--auth-user",
            f"alice{number}@example.org",
            "--auth-password",
            "secret",
            "--from",
            f"alice{number}@example.org",
            "--to",
            f"bob{number}@{domains[number]}",
        )
    # Inbound mail for the local domain, over TLS 1.3 and in plaintext.
    for number, client in enumerate(CLIENTS[:4]):
        tls = ["--tls", "--tls-protocol", versions[3 - number]] if number < 3 else []
        _swaks(
            "--local-interface",
            client,
            "--from",
            f"news@list{number}.example",
            "--to",
            f"carol{number}@{LOCAL_DOMAIN}",
            "--tls-cipher",
            LEGACY_CIPHERS,
            *tls,
        )
    # A client that connects and goes away, one refused relaying, one whose TLS handshake fails
    # (no cipher in common), and a delivery to a destination that does not answer.
    to_carol = ["--from", "x@peer.example", "--to", f"carol@{LOCAL_DOMAIN}"]
    _swaks("--local-interface", CLIENTS[5], *to_carol, "--quit-after", "EHLO")
    _swaks("--local-interface", CLIENTS[6], "--from", "x@peer.example", "--to", "x@other.example")
    _swaks("--local-interface", CLIENTS[7], *to_carol, "--tls", *NO_SHARED_CIPHER)
    _swaks("--local-interface", CLIENTS[8], "--from", "x@peer.example", "--to", "d@down.example")


def _wait_for_queue(work: Path, limit: float = 60.0) -> None:
    """Until every accepted message has been delivered (the log shows as many removed)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        text = (work / "maillog").read_text(errors="replace")
        queued = text.count("(queue active)")
        if queued and text.count(": removed") + text.count("status=deferred") >= queued:
            time.sleep(1.0)  # postlogd writes a moment after the fact
            return
        time.sleep(0.5)
    print("capture: some messages still queued at the time limit", file=sys.stderr)


def capture(output: Path) -> int:
    try:
        lease = acquire()
    except FleetError as problem:
        print(f"capture: the fleet cannot start: {problem}", file=sys.stderr)
        return 1
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "etc").mkdir(parents=True)
    (WORK / "spool").mkdir()
    (WORK / "mail").mkdir()
    os.chown(WORK / "mail", NOBODY, NOBODY)
    config = WORK / "etc"
    chain = lease.fleet.ca_file.parent / "allversions.pem"
    (config / "main.cf").write_text(_main_cf(WORK, lease.fleet.ca_file))
    (config / "master.cf").write_text(_master_cf(chain))
    auth = _serve_auth(WORK / "auth")
    postfix = ["postfix", "-c", str(config)]
    try:
        subprocess.run([*postfix, "start"], check=True, timeout=60)
        time.sleep(1.0)
        _drive()
        _wait_for_queue(WORK)
    finally:
        subprocess.run([*postfix, "stop"], check=False, timeout=60)
        auth.close()
        lease.release()
    output.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(WORK / "maillog", output)
    print(f"capture: {sum(1 for _ in output.open())} lines in {output}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m bench.capture_postfix_lines", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    arguments = parser.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("capture: run as root (Postfix)")
    return capture(arguments.output)


if __name__ == "__main__":
    sys.exit(main())
