"""The exceptions mailtls raises. Failures of a *server* are data (``ProbeResult``), not these.

::

    MailtlsError                 base of everything mailtls raises on purpose
    ├── UsageError               a wrong argument: bad target, bad option value (exit code 64)
    ├── KnowledgeError           a knowledge data file is missing or fails validation
    ├── StoreError               the result store cannot be opened, read or written (exit 74)
    └── SmtpProtocolError        the peer broke SMTP framing (line or reply too long, garbage);
        │                        raised by the pure parser, turned into a ProbeResult by the prober
        └── NotSmtpError         what arrived does not even look like an SMTP reply line
"""

from __future__ import annotations


class MailtlsError(Exception):
    """Base of all errors mailtls raises on purpose."""


class UsageError(MailtlsError):
    """The caller asked for something that cannot be done as asked."""


class KnowledgeError(MailtlsError):
    """A knowledge data file is missing, malformed or lacks a source."""


class StoreError(MailtlsError):
    """The store cannot be used: unreachable, locked, full, or not a mailtls database."""


class SmtpProtocolError(MailtlsError):
    """The peer's bytes are not a well-formed SMTP reply within our limits."""


class NotSmtpError(SmtpProtocolError):
    """The bytes are not an SMTP reply line at all (HTTP, SSH banner, binary garbage)."""
