"""The server-side ``SSLContext`` the receiver offers in STARTTLS, per policy.

``observe`` accepts every TLS version from 1.0 to 1.3 and every authenticated suite, at OpenSSL
security level 0: OpenSSL 3 refuses TLS 1.0/1.1 above it, and the receiver exists to *see*
legacy senders. ``exo`` offers what Exchange Online offers: TLS 1.2 and 1.3, and for TLS 1.2
only its published suites, so that a sender shows whether it falls back to plaintext or defers.
"""

from __future__ import annotations

import ssl
import warnings
from collections.abc import Callable
from pathlib import Path

from mailtls.knowledge.exchange_online import ExchangeOnlinePolicy, load_exchange_online_policy
from mailtls.receiver.models import ReceivePolicy

OBSERVE_CIPHERS = "ALL:!aNULL:!eNULL:@SECLEVEL=0"

ServerNameCallback = Callable[[ssl.SSLObject, str | None, ssl.SSLContext], int | None]


def server_context(
    policy: ReceivePolicy,
    certificate: Path,
    key: Path,
    *,
    on_server_name: ServerNameCallback | None = None,
    exchange_online: ExchangeOnlinePolicy | None = None,
) -> ssl.SSLContext:
    """A server context for ``policy`` with the given chain (leaf first) and key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.verify_mode = ssl.CERT_NONE  # client certificates are not asked for
    if policy is ReceivePolicy.OBSERVE:
        with warnings.catch_warnings():
            # Python deprecates TLS 1.0/1.1; accepting them to record who uses them is the point.
            warnings.filterwarnings("ignore", "ssl.TLSVersion.TLSv1", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_3
        context.set_ciphers(OBSERVE_CIPHERS)
    else:
        exo = exchange_online if exchange_online is not None else load_exchange_online_policy()
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.maximum_version = ssl.TLSVersion.TLSv1_3
        # Level 0 so that only the suite list restricts, as in the probes' EXO recipe.
        context.set_ciphers(exo.openssl_cipher_string + ":@SECLEVEL=0")
    # The client's order, not ours: the record should show what the sender prefers.
    context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    context.load_cert_chain(certificate, key)
    if on_server_name is not None:
        context.sni_callback = on_server_name
    return context
