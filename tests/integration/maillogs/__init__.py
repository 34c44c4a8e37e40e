"""Logs written by real MTAs for the ``mailtls logs`` tests, with the peer table they must give.

A Postfix and an Exim of their own, on 127.0.8.x, receive sessions from ``swaks`` on distinct
client addresses (127.0.7.x) over TLS 1.0 to 1.3 and in plaintext, from MTAs and from SMTP AUTH
submission clients, and relay mail to the fleet's listeners. ``plan`` says what is sent and
derives the expected table from it; ``production`` runs it once per test run; the fixture
``maillogs`` (tests/integration/conftest.py) hands the result to tests as a ``MailLogs``.
"""

from .plan import ExpectedPeer, Login, Route, Session
from .production import obtain
from .result import MailLogs, MailLogsError

__all__ = ["ExpectedPeer", "Login", "MailLogs", "MailLogsError", "Route", "Session", "obtain"]
