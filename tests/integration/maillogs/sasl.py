"""An authentication backend for Postfix's SMTP AUTH: the client side of Dovecot's auth protocol.

Postfix does not check passwords itself; it asks Cyrus SASL or a Dovecot auth server. Dovecot is
not installed here, and Cyrus needs a password database only its own tools write, so this
module answers Postfix's ``smtpd_sasl_type = dovecot`` requests (``smtpd_sasl_path =
inet:HOST:PORT``) for one user with the PLAIN mechanism. What the logs show comes from Postfix
alone: the backend only says yes or no.

The protocol (Dovecot's auth-protocol.txt, and postfix/src/xsasl/xsasl_dovecot_server.c): on
connect the server sends VERSION, MECH, SPID, CUID, COOKIE and DONE lines; the client sends
VERSION and CPID, then ``AUTH <id> PLAIN service=smtp ... [resp=<base64>]``; the server answers
``CONT <id> <challenge>``, ``OK <id> user=<name>`` or ``FAIL <id> user=<name>``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import socket
import threading
from dataclasses import dataclass
from types import TracebackType

from .plan import Login


@dataclass(frozen=True)
class AuthDialogue:
    """The protocol, without I/O: the greeting, and the answer to each line from the client."""

    login: Login

    def greeting(self, connection_number: int) -> str:
        return (
            "VERSION\t1\t2\n"
            "MECH\tPLAIN\tplaintext\n"
            f"SPID\t{os.getpid()}\n"
            f"CUID\t{connection_number}\n"
            f"COOKIE\t{os.urandom(16).hex()}\n"
            "DONE\n"
        )

    def answer(self, line: str) -> str | None:
        """The reply to one line (without its newline); None for lines that need none."""
        fields = line.split("\t")
        if fields[0] == "AUTH" and len(fields) >= 3:
            request_id, mechanism = fields[1], fields[2]
            if mechanism.upper() != "PLAIN":
                return f"FAIL\t{request_id}\treason=unsupported mechanism\n"
            response = next((f[5:] for f in fields[3:] if f.startswith("resp=")), None)
            if response is None:
                return f"CONT\t{request_id}\t\n"  # ask for the credentials
            return self._verdict(request_id, response)
        if fields[0] == "CONT" and len(fields) >= 3:
            return self._verdict(fields[1], fields[2])
        return None  # VERSION, CPID and anything unknown

    def _verdict(self, request_id: str, response: str) -> str:
        try:
            # RFC 4616: authorization identity NUL authentication identity NUL password.
            _, user, password = base64.b64decode(response, validate=True).split(b"\0")
        except (binascii.Error, ValueError):
            return f"FAIL\t{request_id}\treason=malformed PLAIN response\n"
        name = user.decode("utf-8", errors="replace")
        accepted = (name, password.decode("utf-8", errors="replace")) == (
            self.login.user,
            self.login.password,
        )
        return f"{'OK' if accepted else 'FAIL'}\t{request_id}\tuser={name}\n"


class AuthServer:
    """Serves ``AuthDialogue`` on a loopback TCP port, one thread per Postfix connection."""

    def __init__(self, login: Login, host: str) -> None:
        self.dialogue = AuthDialogue(login)
        self._listener = socket.create_server((host, 0))
        self.host = host
        self.port: int = self._listener.getsockname()[1]
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        self._acceptor = threading.Thread(target=self._accept, name="sasl-accept", daemon=True)

    @property
    def postfix_path(self) -> str:
        """The value for Postfix's ``smtpd_sasl_path``."""
        return f"inet:{self.host}:{self.port}"

    def __enter__(self) -> AuthServer:
        self._acceptor.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        # shutdown() wakes the threads blocked in accept() and recv(); close() alone does not.
        for stream in (self._listener, *connections):
            with contextlib.suppress(OSError):
                stream.shutdown(socket.SHUT_RDWR)
            stream.close()
        self._acceptor.join(timeout=5)

    def _accept(self) -> None:
        number = 0
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed
            number += 1
            with self._lock:
                if self._closed:
                    connection.close()
                    return
                self._connections.append(connection)
            threading.Thread(
                target=self._serve, args=(connection, number), name="sasl-client", daemon=True
            ).start()

    def _serve(self, connection: socket.socket, number: int) -> None:
        try:
            connection.sendall(self.dialogue.greeting(number).encode())
            with connection.makefile(
                "r", encoding="utf-8", errors="replace", newline="\n"
            ) as lines:
                for line in lines:
                    reply = self.dialogue.answer(line.rstrip("\n"))
                    if reply is not None:
                        connection.sendall(reply.encode())
        except (OSError, ValueError):
            pass  # Postfix went away, or close() shut the connection down
        finally:
            connection.close()
