"""A session judged by Exchange Online's rules for servers that deliver to it, and the fix.

Pure. Exchange Online accepts TLS 1.2 only with its published suites (``exchange_online.toml``)
and TLS 1.3; it refuses TLS 1.0/1.1. The fix comes from the knowledge base (``remedy_for``) for
the recognised product, keeping the steps for the sending side: the receiving-side steps of a
remedy are about the sender's own smtpd, which this session did not see.
"""

from __future__ import annotations

import dataclasses

from mailtls.knowledge.exchange_online import ExchangeOnlinePolicy, load_exchange_online_policy
from mailtls.knowledge.remedies import SERVER_SIDE, remedy_for
from mailtls.models import FindingCode, ProductGuess, Remedy, TlsVersion
from mailtls.receiver.models import ReceivedMessage, SenderVerdict, TlsSeen

# The finding whose advice fits each verdict on the sending side.
_FINDING_OF = {
    SenderVerdict.LEGACY_TLS: FindingCode.TLS12_UNSUPPORTED,
    SenderVerdict.PLAINTEXT: FindingCode.TLS12_UNSUPPORTED,
    SenderVerdict.HANDSHAKE_FAILED: FindingCode.TLS_HANDSHAKE_FAILED,
    SenderVerdict.TLS12_NO_EXO_SUITE: FindingCode.EXO_CIPHERS_UNSUPPORTED,
}


def judge(
    tls: TlsSeen | None,
    mail_attempted: bool,
    policy: ExchangeOnlinePolicy | None = None,
) -> SenderVerdict:
    """The verdict of one session.

    ``mail_attempted``: the client sent MAIL FROM (in plaintext or over TLS). A session that
    neither started TLS nor tried to send mail says nothing about the sender's TLS.
    """
    if tls is None:
        return SenderVerdict.PLAINTEXT if mail_attempted else SenderVerdict.NO_MAIL
    if tls.version is None:
        return SenderVerdict.HANDSHAKE_FAILED
    policy = policy if policy is not None else load_exchange_online_policy()
    if tls.version.rank < policy.minimum_version.rank:
        return SenderVerdict.LEGACY_TLS
    if tls.version is TlsVersion.TLS1_3:
        return SenderVerdict.ACCEPTED  # TLS 1.3 suites are not part of the TLS 1.2 list
    if tls.cipher is not None and policy.accepts_cipher(tls.cipher):
        return SenderVerdict.ACCEPTED
    return SenderVerdict.TLS12_NO_EXO_SUITE


def mail_attempted(messages: tuple[ReceivedMessage, ...], commands: tuple[str, ...]) -> bool:
    return bool(messages) or "MAIL" in commands


def sending_side(remedy: Remedy) -> Remedy:
    """The remedy without its steps for the receiving side."""
    steps = tuple(step for step in remedy.steps if not step.startswith(SERVER_SIDE))
    return dataclasses.replace(remedy, steps=steps)


def fix_for(verdict: SenderVerdict, product: ProductGuess) -> Remedy | None:
    code = _FINDING_OF.get(verdict)
    if code is None:
        return None
    remedy = remedy_for(code, product)
    return sending_side(remedy) if remedy is not None else None
