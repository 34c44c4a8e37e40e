"""Exim's main log: one line per received message (``<=``) and per delivery (``=>``).

Exim logs messages, not connections: the TLS of a session appears only on the lines of the
messages it carried (``X=TLS1.2:...`` on ``<=`` arrivals and ``=>`` deliveries), and a connection
that carried no message leaves no TLS record at all. So for Exim a "session" is a message: one
observation per arrival, one per delivery. ``->`` lines (further recipients of the same delivery,
over the same connection) add none, since the ``=>`` line of that delivery already counted it.

What a line says about TLS, as Exim writes it (src/src/tls-openssl.c, tls-gnu.c, smtp_in.c,
deliver.c; doc/doc-docbook/spec.xfpt "Log files"):

- ``X=<version>:<cipher>:<bits>[:<group>]`` (the ``tls_cipher`` log selector, on by default).
  OpenSSL builds write ``SSL_get_version`` without its ``v``: ``TLS1`` (1.0), ``TLS1.1``,
  ``TLS1.2``, ``TLS1.3``; older ones kept it (``TLSv1.2``). GnuTLS builds write ``TLS1.0`` ..
  ``TLS1.3`` (``TLS1.2-PKIX`` from GnuTLS 3.1), and since GnuTLS 3.1.10 a cipher built from the
  session description (``ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM``). The
  ``tls_resumption`` selector appends ``*``.
- ``P=`` on arrivals (smtp_in.c ``protocols[]``): ``smtp``/``esmtp`` plaintext, ``esmtpa`` plaintext
  with AUTH, ``smtps``/``esmtps``/``esmtpsa`` STARTTLS, ``ssmtp``/``essmtp``/``essmtpa``
  TLS-on-connect; ``utf8`` in front for SMTPUTF8 messages, ``local-`` for SMTP over stdin.
- ``CV=yes|no|dane`` (the ``tls_certificate_verified`` selector, on by default) is logged only for
  TLS connections, on arrivals and deliveries alike: with ``-tls_cipher`` it is what still tells a
  TLS delivery from a plaintext one.
- ``A=<authenticator>[:<id>]`` on an arrival: the client authenticated (a submission client).
- ``H=<name> (<helo>) [<ip>]:<port>`` on arrivals, ``H=<name> [<ip>]:<port>`` on deliveries (``DS``
  may follow the name; ``*`` after the address marks a reused connection).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from ipaddress import ip_address

from mailtls.logs.base import IGNORED, UNPARSED, FeedResult, LineKind, LogParser
from mailtls.logs.syslog import address_domain, parse_syslog
from mailtls.logs.timestamps import YearGuesser, parse_iso
from mailtls.models import Direction, LogFormat, PeerRole, SessionObservation, TlsVersion

# "2025-01-01 12:00:00", "... 12:00:00.123" (+millisec), "... +0100" (log_timezone), then an
# optional "[pid]" (+pid) before the rest.
_STAMP = re.compile(
    r"^(?P<stamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)"
    r"(?: (?P<zone>[+-]\d\d\d\d))?"
    r"(?: \[\d+\])? (?P<rest>.*)$"
)
# Message ids: 1abcDE-000000-0A (up to 4.96) and 1abcDE-000000001bo-D342 (4.97 on).
_MESSAGE = re.compile(
    r"^(?P<id>[0-9A-Za-z]{6}-(?:[0-9A-Za-z]{11}|[0-9A-Za-z]{6})-(?:[0-9A-Za-z]{4}|[0-9A-Za-z]{2}))"
    r" (?P<flag><=|=>|->|>>|\*>|\*\*|==|\(=)(?: (?P<body>.*))?$"
)
# Quoted values (C="250 OK ...", DN="...", T="subject", quoted local parts) may contain text
# that looks like fields; blank them before looking for fields.
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
# HELO names are single words (Exim refuses others unless helo_accept_junk_hosts); bounding
# every part keeps a hostile line of many "H=x (" from costing quadratic time.
_HOST = re.compile(
    r"(?:^| )H=(?:(?P<name>[^\s(\[]\S{0,254}) )?(?:DS )?(?:\((?P<helo>[^)\s]{0,255})\) )?"
    r"(?:DS )?\[(?P<ip>[0-9A-Fa-f.:]{2,45})\]"
)
_PROTOCOL = re.compile(r"(?:^| )P=(?P<value>\S+)")
_CIPHER = re.compile(r"(?:^| )X=(?P<value>\S+)")
_VERIFIED = re.compile(r"(?:^| )CV=\S+")
_AUTHENTICATOR = re.compile(r"(?:^| )A=\S+")
# TLS1 / TLS1.0 / TLSv1.2 / TLS1.2-PKIX / SSL3.0 / SSLv3
_VERSION = re.compile(r"^(?P<family>TLS|SSL)v?(?P<major>\d)(?:\.(?P<minor>\d))?(?:-\w+)?$")

_TLS_VERSIONS = {
    ("1", None): TlsVersion.TLS1_0,
    ("1", "0"): TlsVersion.TLS1_0,
    ("1", "1"): TlsVersion.TLS1_1,
    ("1", "2"): TlsVersion.TLS1_2,
    ("1", "3"): TlsVersion.TLS1_3,
}
_TLS_PROTOCOLS = frozenset({"smtps", "esmtps", "esmtpsa", "ssmtp", "essmtp", "essmtpa"})
_PLAIN_PROTOCOLS = frozenset({"smtp", "esmtp", "esmtpa"})
_AUTH_PROTOCOLS = frozenset({"esmtpa", "esmtpsa", "essmtpa"})
_DELIVERY_FLAGS = frozenset({"=>", ">>"})  # normal and cutthrough deliveries


class EximParser(LogParser):
    """Exim main log lines (``mainlog`` files, or the same text through syslog).

    ``years`` is needed only for lines that came through syslog without Exim's own stamp.
    """

    format = LogFormat.EXIM

    def __init__(self, years: YearGuesser | None = None) -> None:
        self._years = years if years is not None else YearGuesser()
        self._observed = 0
        self._tls_without_cipher = 0  # TLS shown by P= or CV=, but no X=: -tls_cipher
        self._ssl3 = 0
        self._unknown_versions: set[str] = set()

    def feed(self, line: str, origin: str) -> FeedResult:
        stamped = self._split(line)
        if stamped is None:
            return UNPARSED
        timestamp, rest = stamped
        message = _MESSAGE.match(rest)
        if message is None:
            return IGNORED  # an Exim line about something else: connections, queue runs
        flag = message.group("flag")
        body = _QUOTED.sub('""', message.group("body") or "")
        if flag == "<=":
            observation = self._arrival(body, timestamp, origin)
        elif flag in _DELIVERY_FLAGS:
            observation = self._delivery(body, timestamp, origin)
        else:
            return IGNORED
        if observation is None:
            return IGNORED
        self._observed += 1
        return FeedResult(LineKind.USED, (observation,))

    def warnings(self) -> tuple[str, ...]:
        notes: list[str] = []
        if self._observed:
            notes.append(
                "Exim logs messages, not connections: each received or delivered message counts "
                "as one session, and connections that carried no message are not seen."
            )
        if self._tls_without_cipher:
            notes.append(
                f"{self._tls_without_cipher} Exim message(s) went over TLS but their lines carry "
                "no X= field, so the TLS version is unknown: log_selector turns tls_cipher off; "
                "remove -tls_cipher from log_selector (it is on by default)."
            )
        if self._ssl3:
            notes.append(
                f"{self._ssl3} Exim message(s) used SSLv3, which is older than TLS 1.0; they are "
                "counted as TLS of unknown version."
            )
        if self._unknown_versions:
            names = ", ".join(sorted(self._unknown_versions)[:5])
            notes.append(
                f"Exim logged TLS versions this tool does not know ({names}); those messages "
                "are counted as TLS of unknown version."
            )
        return tuple(notes)

    def _split(self, line: str) -> tuple[datetime | None, str] | None:
        """The time and the text after it; None when this is no Exim line at all."""
        own = _exim_stamp(line)
        if own is not None:
            return own
        framed = parse_syslog(line, self._years)
        if framed is None or not framed.program.startswith("exim"):
            return None
        # With syslog_timestamp (the default) Exim's own stamp follows the syslog frame.
        inner = _exim_stamp(framed.text)
        return inner if inner is not None else (framed.timestamp, framed.text)

    def _arrival(
        self, body: str, timestamp: datetime | None, origin: str
    ) -> SessionObservation | None:
        peer = _peer(body)
        protocol_field = _PROTOCOL.search(body)
        if peer is None or protocol_field is None:
            return None  # a local submission (no H=) or a line cut short
        protocol = protocol_field.group("value").lower().removeprefix("utf8")
        if protocol not in _TLS_PROTOCOLS and protocol not in _PLAIN_PROTOCOLS:
            return None  # local-* (SMTP over stdin), or a name set with -oMr: no TLS facts
        authenticated = protocol in _AUTH_PROTOCOLS or _AUTHENTICATOR.search(body) is not None
        plaintext = SessionObservation(
            source=LogFormat.EXIM,
            direction=Direction.INBOUND,
            timestamp=timestamp,
            peer_ip=peer[0],
            peer_host=peer[1],
            tls_version=None,
            role=PeerRole.SUBMISSION if authenticated else PeerRole.MTA,
            origin=origin,
        )
        return self._protected(plaintext, body, tls_by_protocol=protocol in _TLS_PROTOCOLS)

    def _delivery(
        self, body: str, timestamp: datetime | None, origin: str
    ) -> SessionObservation | None:
        peer = _peer(body)
        if peer is None:
            return None  # a local delivery: file, pipe, LMTP socket
        plaintext = SessionObservation(
            source=LogFormat.EXIM,
            direction=Direction.OUTBOUND,
            timestamp=timestamp,
            peer_ip=peer[0],
            peer_host=peer[1],
            tls_version=None,
            origin=origin,
            # "=> user@example.com <orig@...> R=... T=...": the first word is the recipient.
            peer_domain=address_domain(body.split(" ", 1)[0]),
        )
        return self._protected(plaintext, body, tls_by_protocol=False)

    def _protected(
        self, plaintext: SessionObservation, body: str, *, tls_by_protocol: bool
    ) -> SessionObservation:
        """The session with the TLS its line shows: X= first, then P= and CV=, else none."""
        cipher_field = _CIPHER.search(body)
        if cipher_field is None:
            if tls_by_protocol or _VERIFIED.search(body):
                self._tls_without_cipher += 1
                return plaintext._replace(version_ambiguous=True)
            return plaintext
        parts = cipher_field.group("value").rstrip("*").split(":")
        cipher = parts[1] if len(parts) > 1 and parts[1] else None
        version_match = _VERSION.match(parts[0])
        if version_match is None:
            self._unknown_versions.add(parts[0][:20])
        elif version_match.group("family") == "SSL":
            self._ssl3 += 1
        else:
            key = (version_match.group("major"), version_match.group("minor"))
            version = _TLS_VERSIONS.get(key)
            if version is not None:
                return plaintext._replace(tls_version=version, cipher=cipher)
            self._unknown_versions.add(parts[0][:20])
        return plaintext._replace(cipher=cipher, version_ambiguous=True)


def _exim_stamp(text: str) -> tuple[datetime | None, str] | None:
    match = _STAMP.match(text)
    if match is None:
        return None
    moment = parse_iso(match.group("stamp"))
    if moment is None:
        return None
    zone = match.group("zone")
    if zone is not None:
        # The stamp was parsed as UTC; "+0100" means it was an hour ahead of UTC.
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
        moment = moment - offset if zone[0] == "+" else moment + offset
    return moment, match.group("rest")


def _peer(body: str) -> tuple[str, str | None] | None:
    """(ip, name) from the H= field; the verified name, else the HELO name, else None."""
    match = _HOST.search(body)
    if match is None:
        return None
    try:
        ip = str(ip_address(match.group("ip")))
    except ValueError:
        return None
    name = match.group("name") or match.group("helo") or None
    if name is not None and (name.startswith("[") or name == ip):
        name = None  # an address literal, not a name
    return ip, name
