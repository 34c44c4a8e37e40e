"""What an SMTP error reply means to a tester: busy, temporarily failing, or refusing us.

The whole point is never to read "421 Too many connections" as "no STARTTLS": peer tools that do
report busy servers as insecure ones. The classification is conservative: a 421 is always
"rate limited / not available now", whatever its text says.
"""

from __future__ import annotations

from mailtls.models import AddressStatus, ReplyClass, SmtpReply


def classify_reply(reply: SmtpReply) -> ReplyClass:
    if reply.code == 421:
        # RFC 5321: "Service not available, closing transmission channel" — the server's way
        # of saying "too many connections", "try later" or "shutting down".
        return ReplyClass.RATE_LIMITED
    if 400 <= reply.code < 500:
        return ReplyClass.TEMPORARY
    if 500 <= reply.code < 600:
        return ReplyClass.REJECTED
    return ReplyClass.UNEXPECTED


def status_for_reply_class(reply_class: ReplyClass) -> AddressStatus:
    return {
        ReplyClass.RATE_LIMITED: AddressStatus.RATE_LIMITED,
        ReplyClass.TEMPORARY: AddressStatus.TEMPORARY_FAILURE,
        ReplyClass.REJECTED: AddressStatus.REJECTED,
        ReplyClass.UNEXPECTED: AddressStatus.PROTOCOL_ERROR,
    }[reply_class]
