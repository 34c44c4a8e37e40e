"""nginx serving the MTA-STS policies: certificates, policy files and configuration.

One nginx on the slot's HTTPS address, port 443, one ``server`` per policy host, chosen by
SNI; a name it does not know gets its handshake refused. Certificates come from a root of the
world's own (the fleet's root key is never written down): tests trust it with the CA file the
world hands out. ``nginx_conf`` and ``policy_body`` are pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mailtls.tls.issuing import Issued, issue, make_ca, new_key, write_ca_bundle

from .layout import (
    DOMAINS,
    HTTPS_PORT,
    HUGE_POLICY_BYTES,
    OTHER_HTTPS_NAME,
    POLICY_PATH,
    SLOW_BURST_BYTES,
    SLOW_POLICY_BYTES,
    SLOW_RATE_BYTES_PER_SECOND,
    Serving,
    Slot,
    WorldDomain,
    WorldDomains,
)

NGINX = "/usr/sbin/nginx"
# What a redirecting policy host sends the client to: a valid policy, so that a fetcher that
# follows redirects (it must not) gets caught with a policy it should not have.
REDIRECT_TARGET = DOMAINS.sts_enforce.policy_url
_SERVED = frozenset(Serving) - {Serving.HANGS, Serving.NO_ADDRESS}


@dataclass(frozen=True)
class PolicyHost:
    """One server block: the domain it serves for and the files it uses."""

    domain: WorldDomain
    serving: Serving
    certificate: Path
    key: Path
    policy: Path


@dataclass(frozen=True)
class HttpsSite:
    config: Path
    ca_file: Path  # the world's HTTPS root
    error_log: Path
    access_log: Path
    pid_file: Path


def _padded(policy: str, domain: WorldDomain, size: int) -> str:
    """The policy followed by more ``mx`` lines until it is ``size`` bytes or more: still
    valid syntax, so that size (or time) is its only fault."""
    lines = [policy]
    total = len(policy)
    number = 0
    while total < size:
        line = f"mx: padding-{number:06d}.{domain.name}\r\n"
        lines.append(line)
        total += len(line)
        number += 1
    return "".join(lines)


def policy_body(domain: WorldDomain) -> str:
    case = domain.mta_sts
    if case is None:
        raise ValueError(f"{domain.name} publishes no MTA-STS policy")
    if case.serving is Serving.HUGE:
        return _padded(case.policy, domain, HUGE_POLICY_BYTES)
    if case.serving is Serving.SLOW:
        return _padded(case.policy, domain, SLOW_POLICY_BYTES)
    return case.policy


def _location(host: PolicyHost) -> str:
    if host.serving is Serving.NOT_FOUND:
        return "return 404;"
    if host.serving is Serving.REDIRECT:
        return f"return 301 {REDIRECT_TARGET};"
    if host.serving is Serving.WRONG_TYPE:
        return f"types {{ }} default_type text/html; alias {host.policy};"
    if host.serving is Serving.SLOW:
        # The headers and the first bytes of the body go at once, then it trickles.
        return (
            f"limit_rate {SLOW_RATE_BYTES_PER_SECOND}; limit_rate_after {SLOW_BURST_BYTES}; sendfile off; "
            f"alias {host.policy};"
        )
    return f"alias {host.policy};"


def _server(slot: Slot, host: PolicyHost) -> str:
    return f"""\
    server {{
        listen {slot.https}:{HTTPS_PORT} ssl;
        server_name {host.domain.policy_host};
        ssl_certificate {host.certificate};
        ssl_certificate_key {host.key};
        location = {POLICY_PATH} {{ {_location(host)} }}
        location / {{ return 404; }}
    }}
"""


def nginx_conf(slot: Slot, folder: Path, site: HttpsSite, hosts: list[PolicyHost]) -> str:
    temp = folder / "temp"
    servers = "".join(_server(slot, host) for host in hosts)
    return f"""\
# Written by the secure world of the mailtls tests; rewritten at every start.
daemon off;
master_process on;
worker_processes 1;
# Workers must read the world's files, which live in a folder only root may enter.
user root;
pid {site.pid_file};
error_log {site.error_log} notice;
events {{
    worker_connections 128;
}}
http {{
    access_log {site.access_log};
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    types {{
        text/plain txt;
    }}
    default_type application/octet-stream;
    server_tokens off;
    ssl_protocols TLSv1.2 TLSv1.3;
    # A name without a server block of its own: no certificate, the handshake is refused.
    server {{
        listen {slot.https}:{HTTPS_PORT} ssl default_server;
        ssl_reject_handshake on;
    }}
{servers}}}
"""


def _certificate(domain: WorldDomain, serving: Serving, root: Issued) -> Issued:
    key = new_key("ec", 256)  # EC keys: a few milliseconds for all hosts, RSA would take a second
    if serving is Serving.WRONG_NAME_CERTIFICATE:
        return issue((OTHER_HTTPS_NAME,), issuer=root, key=key)
    if serving is Serving.UNTRUSTED_CERTIFICATE:
        return issue((domain.policy_host,), key=key)  # signs itself
    return issue((domain.policy_host,), issuer=root, key=key)


def write_site(slot: Slot, folder: Path, domains: WorldDomains = DOMAINS) -> HttpsSite:
    """Issue the certificates, write the policies and nginx's configuration under ``folder``."""
    certs = folder / "certs"
    www = folder / "www"
    www.mkdir(parents=True, exist_ok=True)
    for part in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / "temp" / part).mkdir(parents=True, exist_ok=True)
    root = make_ca("mailtls secure world root", key=new_key("ec", 256))
    site = HttpsSite(
        config=folder / "nginx.conf",
        ca_file=write_ca_bundle(certs / "https-ca.pem", root),
        error_log=folder / "nginx-error.log",
        access_log=folder / "nginx-access.log",
        pid_file=folder / "nginx.pid",
    )
    hosts = []
    for domain in domains.all():
        if domain.mta_sts is None or domain.mta_sts.serving not in _SERVED:
            continue
        serving = domain.mta_sts.serving
        certificate, key = _certificate(domain, serving, root).write(certs, domain.name)
        policy = www / f"{domain.name}.txt"
        policy.write_text(policy_body(domain), newline="")
        hosts.append(PolicyHost(domain, serving, certificate, key, policy))
    site.config.write_text(nginx_conf(slot, folder, site, hosts))
    return site


def nginx_command(site: HttpsSite, folder: Path) -> list[str]:
    # -e: the error log from the first line on; otherwise nginx opens the system's log before
    # it has read its configuration.
    return [NGINX, "-c", str(site.config), "-p", f"{folder}/", "-e", str(site.error_log)]
