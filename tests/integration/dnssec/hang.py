"""A server that accepts TCP connections and never says a word: an HTTPS host that hangs.

Run as ``python hang.py IP PORT`` (no imports beyond the standard library, so it starts fast).
Every connection is accepted and held open, whatever the client sends, until the client
closes it; so a TLS handshake never completes, and the accept queue never fills up with
connections nobody took (which would turn the hang into refused connections).
"""

from __future__ import annotations

import selectors
import signal
import socket
import sys
from types import FrameType


def serve(ip: str, port: int) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((ip, port))
    listener.listen(64)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            stream = key.fileobj
            assert isinstance(stream, socket.socket)
            if stream is listener:
                connection, _ = listener.accept()
                selector.register(connection, selectors.EVENT_READ)
                continue
            try:
                data = stream.recv(4096)  # read and ignore: never an answer
            except OSError:
                data = b""
            if not data:
                selector.unregister(stream)
                stream.close()


def _stop(_signum: int, _frame: FrameType | None) -> None:
    sys.exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop)
    serve(sys.argv[1], int(sys.argv[2]))
