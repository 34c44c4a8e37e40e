"""The fix for a finding: concrete steps for the recognised product, generic ones otherwise.

:func:`remedy_for` is pure: a finding code, the product guess and a few facts about the address in,
a :class:`~mailtls.models.Remedy` (or ``None`` for findings that call for nothing) out. The texts
come from ``data/mail_servers.toml``: the advice per code says what always holds and which kind of
product setting applies; the product entry supplies the settings, the minimum version, how to find
the version and where TLS is logged. A product guessed with low confidence, or one without
settings for this kind of change, gets the generic advice and how to find out the product.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mailtls.knowledge.exchange_online import ExchangeOnlinePolicy, load_exchange_online_policy
from mailtls.knowledge.mail_servers import (
    PLACEHOLDER,
    Advice,
    Condition,
    MailServer,
    MailServerKnowledge,
    Section,
    Settings,
    load_mail_servers,
)
from mailtls.models import (
    CertificateReport,
    Confidence,
    FindingCode,
    ProductGuess,
    Remedy,
    TlsVersion,
    VersionSupport,
)

# Guesses this sure get the product's own settings; a low-confidence guess is only mentioned.
TRUSTED_CONFIDENCE = frozenset({Confidence.HIGH, Confidence.MEDIUM})

SERVER_SIDE = "Receiving (server side): "
CLIENT_SIDE = "Sending (client side): "

# Host names come from DNS answers: keep them printable and bounded before they enter advice.
_MAX_HOST_CHARS = 255
_UNPRINTABLE = re.compile(r"[^\x21-\x7e]")

# The sections whose change depends on the product's version, so the minimum and the command
# that shows the version come first.
_VERSIONED = frozenset({Section.ENABLE_TLS12, Section.DISABLE_LEGACY})


@dataclass(frozen=True)
class AddressFacts:
    """What the advice may depend on beyond the finding code and the product."""

    mx_host: str | None = None
    tls13_only: bool = False  # TLS 1.2 refused while TLS 1.3 is accepted
    certificate_key_type: str | None = None  # "RSA", "EC", ... of the presented leaf


def address_facts(
    mx_host: str | None,
    tls_versions: Mapping[TlsVersion, VersionSupport],
    certificate: CertificateReport | None,
) -> AddressFacts:
    """The facts :func:`remedy_for` uses, taken from what the probes saw on one address."""
    return AddressFacts(
        mx_host=mx_host,
        tls13_only=(
            tls_versions.get(TlsVersion.TLS1_2) is VersionSupport.UNSUPPORTED
            and tls_versions.get(TlsVersion.TLS1_3) is VersionSupport.SUPPORTED
        ),
        certificate_key_type=certificate.leaf.key_type if certificate is not None else None,
    )


def remedy_for(
    code: FindingCode,
    guess: ProductGuess | None = None,
    facts: AddressFacts | None = None,
    *,
    knowledge: MailServerKnowledge | None = None,
    exchange_online: ExchangeOnlinePolicy | None = None,
) -> Remedy | None:
    """The remedy for a finding, or ``None`` when the finding calls for nothing.

    ``knowledge`` and ``exchange_online`` default to the packaged data (tests pass their own).
    """
    knowledge = knowledge if knowledge is not None else load_mail_servers()
    advice = knowledge.advice.get(code)
    if advice is None:
        return None
    policy = exchange_online if exchange_online is not None else load_exchange_online_policy()
    facts = facts if facts is not None else AddressFacts()
    server = _trusted_server(knowledge, guess)
    values = _values(server, facts, policy)
    steps = [_fill(step, values) for step in advice.steps]
    steps.extend(_fill(c.step, values) for c in advice.conditional if _holds(c.when, facts))
    sources = list(advice.sources)
    summary = _fill(advice.summary, values)
    product: str | None = None
    if advice.section is not None:
        if server is not None and server.hosted:
            summary = f"{server.name} is run by its provider: report the finding to them"
            steps.extend(_fill(step, values) for step in server.contact)
            sources.extend(server.sources)
            product = server.id
        elif server is not None and (settings := server.settings(advice.section)) is not None:
            steps.extend(_product_steps(server, settings, advice, values))
            sources.extend(settings.sources or server.sources)
            product = server.id
        else:
            steps.extend(_generic_steps(knowledge, advice.section, server, guess, values))
            sources.extend(knowledge.generic.sections[advice.section].sources)
            sources.extend(knowledge.generic.sources)
    return Remedy(
        summary=summary,
        steps=tuple(_unique(steps)),
        product=product,
        sources=tuple(_unique(sources)),
    )


def _trusted_server(
    knowledge: MailServerKnowledge, guess: ProductGuess | None
) -> MailServer | None:
    if guess is None or guess.confidence not in TRUSTED_CONFIDENCE:
        return None
    return knowledge.server(guess.product)


def _values(
    server: MailServer | None, facts: AddressFacts, policy: ExchangeOnlinePolicy
) -> dict[str, str]:
    host = _UNPRINTABLE.sub("?", (facts.mx_host or "").rstrip("."))[:_MAX_HOST_CHARS]
    return {
        "product": server.name if server is not None else "the mail server",
        "mx_host": host or "the MX host",
        "exo_suites": ", ".join(suite.openssl for suite in policy.tls12_cipher_suites),
        "sha512_kb": policy.windows_sha512_kb,
    }


def _fill(text: str, values: Mapping[str, str]) -> str:
    # Not str.format: steps hold literal braces (PowerShell's ``{$_.FileVersionInfo}``).
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def _holds(condition: Condition, facts: AddressFacts) -> bool:
    if condition is Condition.TLS13_ONLY:
        return facts.tls13_only
    return (facts.certificate_key_type or "").upper() in ("EC", "ECDSA")


def _sides(settings: Settings, values: Mapping[str, str]) -> list[str]:
    # The sides are named only where both have steps: a certificate is a server matter alone.
    server_label, client_label = (SERVER_SIDE, CLIENT_SIDE) if settings.client else ("", "")
    steps = [server_label + _fill(step, values) for step in settings.server]
    steps.extend(client_label + _fill(step, values) for step in settings.client)
    return steps


def _product_steps(
    server: MailServer, settings: Settings, advice: Advice, values: Mapping[str, str]
) -> list[str]:
    steps: list[str] = []
    if advice.section in _VERSIONED:
        if server.tls12_minimum:
            steps.append(f"Minimum versions: {_fill(server.tls12_minimum, values)}")
        steps.extend(f"Find the version — {_fill(step, values)}" for step in server.find_version)
    logging = [_fill(step, values) for step in server.tls_logging]
    if advice.section is Section.DISABLE_LEGACY:
        steps.extend(logging)  # the logs must tell who still uses TLS 1.0/1.1 before the change
        logging = []
    steps.extend(_sides(settings, values))
    if advice.section in (Section.ENABLE_TLS12, Section.STARTTLS, Section.CIPHERS):
        steps.extend(f"Check: {step}" for step in logging)
    return steps


def _generic_steps(
    knowledge: MailServerKnowledge,
    section: Section,
    server: MailServer | None,
    guess: ProductGuess | None,
    values: Mapping[str, str],
) -> list[str]:
    steps: list[str] = []
    if server is not None:
        steps.append(
            f"mailtls recognised {server.name}, but has no verified settings of it for this; "
            "the general steps:"
        )
    steps.extend(_sides(knowledge.generic.sections[section], values))
    if server is None:
        steps.append(_identify(knowledge, guess))
    return steps


def _identify(knowledge: MailServerKnowledge, guess: ProductGuess | None) -> str:
    """How to find out the product: the banner, then each product's version command."""
    lines = list(knowledge.generic.identify)
    if guess is not None and guess.product is not None:
        lines.insert(0, f"mailtls guesses {guess.name}, with {guess.confidence.value} confidence.")
    commands = _unique(
        line for server in knowledge.servers if not server.hosted for line in server.find_version
    )
    return "\n".join([*lines, *(f"  {command}" for command in commands)])


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
