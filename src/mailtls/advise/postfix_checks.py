"""Checklist items about a Postfix installation: OpenSSL, version, security levels, protocols."""

from __future__ import annotations

from dataclasses import dataclass

from mailtls.advise.models import AdviceSeverity, ChecklistItem, PostfixConfig, PostfixFacts
from mailtls.advise.postfix import SoftwareVersion, expand, protocol_range
from mailtls.advise.postfix_facts import PostfixTlsFacts, load_postfix_tls
from mailtls.models import TlsVersion

# Client levels from "encrypt" on use the mandatory protocols (postconf(5)).
_MANDATORY_CLIENT_LEVELS = frozenset({"encrypt", "dane-only", "fingerprint", "verify", "secure"})
_PROTOCOL_PARAMETERS = (
    ("smtpd_tls_protocols", "server", False),
    ("smtpd_tls_mandatory_protocols", "server", True),
    ("smtp_tls_protocols", "client", False),
    ("smtp_tls_mandatory_protocols", "client", True),
)
_LEGACY = (TlsVersion.TLS1_0, TlsVersion.TLS1_1)


@dataclass(frozen=True)
class _Level:
    value: str
    origin: str | None
    known: bool


def _version_words(parts: tuple[int, int, int]) -> str:
    return ".".join(str(part) for part in parts).removesuffix(".0")


def _setting(config: PostfixConfig | None, name: str) -> tuple[str, str] | None:
    if config is None or name not in config.settings:
        return None
    setting = config.settings[name]
    return expand(config, setting.value).strip(), setting.origin


def _yes(config: PostfixConfig | None, name: str) -> bool:
    found = _setting(config, name)
    return found is not None and found[0].lower() == "yes"


def _server_level(config: PostfixConfig | None) -> _Level:
    found = _setting(config, "smtpd_tls_security_level")
    if found and found[0]:
        return _Level(found[0].lower(), found[1], True)
    if _yes(config, "smtpd_enforce_tls"):
        return _Level("encrypt", None, True)
    if _yes(config, "smtpd_use_tls"):
        return _Level("may", None, True)
    return _Level("none", None, True)


def _client_level(
    config: PostfixConfig | None, version: SoftwareVersion | None, facts: PostfixTlsFacts
) -> _Level:
    found = _setting(config, "smtp_tls_security_level")
    if found and found[0]:
        return _Level(found[0].lower(), found[1], True)
    if _yes(config, "smtp_enforce_tls"):
        return _Level("encrypt", None, True)
    if _yes(config, "smtp_use_tls"):
        return _Level("may", None, True)
    if version is not None and not version.at_least(*facts.client_may_default_since):
        return _Level("none", None, True)
    # Postfix >= 3.11 (or unknown): "may" with compatibility_level >= 3.11, else "none".
    return _Level("none or may (default depends on version and compatibility_level)", None, False)


def postfix_items(
    config: PostfixConfig | None,
    version: SoftwareVersion | None,
    openssl: SoftwareVersion | None,
    facts: PostfixTlsFacts | None = None,
) -> tuple[PostfixFacts, list[ChecklistItem]]:
    facts = facts or load_postfix_tls()
    items: list[ChecklistItem] = []
    if (
        openssl is not None
        and openssl.product == "OpenSSL"
        and not openssl.at_least(*facts.openssl_tls12_minimum)
    ):
        items.append(
            ChecklistItem(
                code="POSTFIX_OPENSSL_TOO_OLD",
                severity=AdviceSeverity.REQUIRED,
                what=f"Replace {openssl.text}: TLS 1.2 needs OpenSSL "
                f"{_version_words(facts.openssl_tls12_minimum)} or later",
                why="TLS 1.1 and 1.2 were introduced with OpenSSL 1.0.1; with an older "
                "library Postfix cannot speak TLS 1.2 at all.",
                how=("Upgrade the system (OpenSSL and a Postfix built against it).",),
                sources=(facts.openssl_source,),
            )
        )
    if version is not None and not version.at_least(*facts.protocols_parameters_since):
        items.append(
            ChecklistItem(
                code="POSTFIX_TOO_OLD",
                severity=AdviceSeverity.RECOMMENDED,
                what=f"Upgrade Postfix {version.text}",
                why="Postfix before "
                f"{_version_words(facts.protocols_parameters_since)} has no smtp_tls_protocols "
                "or smtpd_tls_protocols: the TLS versions cannot be controlled.",
                how=("Install a current Postfix from the distribution.",),
                sources=(facts.protocols_source,),
            )
        )
    server = _server_level(config)
    client = _client_level(config, version, facts)
    if config is not None:
        items += _level_items(server, client, facts)
    protocols: dict[str, tuple[TlsVersion, ...]] = {}
    for name, side, mandatory in _PROTOCOL_PARAMETERS:
        found = _setting(config, name) if config is not None else None
        value, origin = found if found else (facts.default_protocols, None)
        allowed = protocol_range(value)
        protocols[name] = allowed.allowed
        if found is None:
            continue
        items += _protocol_items(
            name=name,
            value=value,
            origin=origin,
            allowed=allowed.allowed,
            uses_bounds=allowed.uses_bounds,
            problems=allowed.problems,
            side=side,
            mandatory=mandatory,
            server=server,
            client=client,
            version=version,
            facts=facts,
        )
    if config is not None:
        legacy = [
            name
            for name, side, mandatory in _PROTOCOL_PARAMETERS
            if not mandatory and any(v in protocols[name] for v in _LEGACY)
        ]
        if legacy:
            items.append(
                ChecklistItem(
                    code="POSTFIX_LEGACY_TLS_ALLOWED",
                    severity=AdviceSeverity.INFO,
                    what="TLS 1.0/1.1 still allowed in " + ", ".join(legacy),
                    why="Harmless for opportunistic TLS with Exchange Online, which uses TLS 1.2; "
                    "peers that know nothing newer would otherwise fall back to plaintext.",
                    how=(
                        "Before raising the minimum, find who still uses TLS 1.0/1.1: "
                        "`mailtls logs --impact tls12 /var/log/mail.log`.",
                        "Then: "
                        + ", ".join(f"{name} = >=TLSv1.2" for name in legacy)
                        + " (Postfix 3.6 or later; older: !SSLv2, !SSLv3, !TLSv1, !TLSv1.1).",
                    ),
                    sources=(facts.protocols_source,),
                )
            )
        items += _logging_items(config, facts)
    return (
        PostfixFacts(
            version=version.text if version else None,
            openssl=openssl.text if openssl else None,
            server_security_level=server.value,
            client_security_level=client.value,
            protocols=protocols,
        ),
        items,
    )


def _level_items(server: _Level, client: _Level, facts: PostfixTlsFacts) -> list[ChecklistItem]:
    items = []
    if server.value == "none":
        items.append(
            ChecklistItem(
                code="POSTFIX_SERVER_TLS_OFF",
                severity=AdviceSeverity.REQUIRED,
                what="Offer STARTTLS: smtpd_tls_security_level = may",
                why="The Postfix SMTP server does not offer TLS, so mail from Exchange Online "
                "arrives in plaintext (or not at all where the sender requires TLS).",
                how=(
                    "postconf -e 'smtpd_tls_security_level = may' with a certificate in "
                    "smtpd_tls_chain_files (or smtpd_tls_cert_file/smtpd_tls_key_file); "
                    "postfix reload.",
                ),
                sources=(facts.security_level_source,),
                evidence=(server.origin,) if server.origin else (),
            )
        )
    if client.value == "none" or not client.known:
        items.append(
            ChecklistItem(
                code="POSTFIX_CLIENT_TLS_OFF",
                severity=AdviceSeverity.REQUIRED if client.known else AdviceSeverity.RECOMMENDED,
                what="Use TLS when sending: smtp_tls_security_level = may",
                why="The Postfix SMTP client does not use TLS, so mail to Exchange Online leaves "
                "in plaintext."
                if client.known
                else "smtp_tls_security_level is not set, and its default is 'may' only from "
                f"Postfix {_version_words(facts.client_may_default_since)} with "
                "compatibility_level 3.11; set it explicitly.",
                how=("postconf -e 'smtp_tls_security_level = may'; postfix reload.",),
                sources=(facts.security_level_source,),
                evidence=(client.origin,) if client.origin else (),
            )
        )
    return items


def _protocol_items(
    *,
    name: str,
    value: str,
    origin: str | None,
    allowed: tuple[TlsVersion, ...],
    uses_bounds: bool,
    problems: tuple[str, ...],
    side: str,
    mandatory: bool,
    server: _Level,
    client: _Level,
    version: SoftwareVersion | None,
    facts: PostfixTlsFacts,
) -> list[ChecklistItem]:
    items = []
    evidence = (origin,) if origin else ()
    if uses_bounds and version is not None and not version.at_least(*facts.bounds_syntax_since):
        items.append(
            ChecklistItem(
                code="POSTFIX_BOUNDS_SYNTAX_UNSUPPORTED",
                severity=AdviceSeverity.REQUIRED,
                what=f"Rewrite {name} without '>=' / '<='",
                why=f"'{value}' uses the range syntax of Postfix "
                f"{_version_words(facts.bounds_syntax_since)}; Postfix {version.text} does not "
                "understand it.",
                how=(f"{name} = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1",),
                sources=(facts.protocols_source,),
                evidence=evidence,
            )
        )
    if problems:
        items.append(
            ChecklistItem(
                code="POSTFIX_PROTOCOLS_UNKNOWN_NAME",
                severity=AdviceSeverity.RECOMMENDED,
                what=f"Fix {name}: " + "; ".join(problems),
                why="Valid names are SSLv2, SSLv3, TLSv1, TLSv1.1, TLSv1.2 and TLSv1.3.",
                how=(f"{name} = >=TLSv1.2 (Postfix 3.6+) or !SSLv2, !SSLv3, !TLSv1, !TLSv1.1",),
                sources=(facts.protocols_source,),
                evidence=evidence,
            )
        )
    if TlsVersion.TLS1_2 not in allowed:
        level = server if side == "server" else client
        in_use = not mandatory or (
            level.value == "encrypt"
            if side == "server"
            else level.value in _MANDATORY_CLIENT_LEVELS
        )
        shown = ", ".join(allowed) if allowed else "no TLS version"
        items.append(
            ChecklistItem(
                code="POSTFIX_TLS12_EXCLUDED",
                severity=AdviceSeverity.REQUIRED if in_use else AdviceSeverity.RECOMMENDED,
                what=f"Allow TLS 1.2 in {name}",
                why=f"'{value}' allows {shown}. Exchange Online accepts only TLS 1.2 or newer"
                + (
                    "."
                    if in_use
                    else "; this setting applies where TLS is mandatory (e.g. policy tables)."
                ),
                how=(
                    f"postconf -e '{name} = >=TLSv1.2' (Postfix 3.6+; older: "
                    "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1), or remove the setting for the default; "
                    "postfix reload.",
                ),
                sources=(facts.protocols_source,),
                evidence=evidence,
            )
        )
    return items


def _logging_items(config: PostfixConfig, facts: PostfixTlsFacts) -> list[ChecklistItem]:
    quiet = []
    for name in ("smtpd_tls_loglevel", "smtp_tls_loglevel"):
        found = _setting(config, name)
        level = found[0] if found else str(facts.default_loglevel)
        if level.strip() in ("", "0"):
            quiet.append(name)
    if not quiet:
        return []
    return [
        ChecklistItem(
            code="POSTFIX_TLS_NOT_LOGGED",
            severity=AdviceSeverity.INFO,
            what="Log TLS sessions: " + ", ".join(f"{name} = 1" for name in quiet),
            why="At level 0 Postfix logs no TLS versions, so `mailtls logs` cannot tell who "
            "still uses TLS 1.0/1.1.",
            how=(*(f"postconf -e '{name} = 1'" for name in quiet), "postfix reload"),
            sources=(facts.logging_source,),
        )
    ]
