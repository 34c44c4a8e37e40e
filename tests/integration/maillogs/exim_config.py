"""The log-producing Exim: Debian's exim4-daemon-light (GnuTLS), unpacked beside Postfix.

Pure rendering (``exim_conf``). Exim receives on its own address, throws mail for the sink
domain away (``:blackhole:``), and relays mail from authenticated clients to fleet listeners
(``manualroute`` to addresses, so no DNS). Its main log is Exim's own file, with the default
log selector: TLS shows as ``X=<version>:<GnuTLS suite>:<bits>`` on ``<=`` and ``=>`` lines.

One kind of line is an artefact of running Exim from a folder with ``-C``, not of a real
installation: ``exim user lost privilege for using -C option``, once per process Exim
re-executes (it drops root when handed a configuration that is not in its trusted list;
receiving and delivering work all the same). Parsers must pass over it like any other line
without TLS facts.
"""

from __future__ import annotations

from pathlib import Path

from mailtls.models import TlsVersion

from .plan import (
    EXIM_LOGIN,
    EXIM_MX,
    EXIM_ROUTES,
    PARENT_DOMAIN,
    SINK_DOMAIN,
    Login,
    Route,
)
from .workspace import Workspace

EXIM_USER = "Debian-exim"  # compiled into Debian's binary; scripts/setup creates the user
HOST_NAME = f"exim.{PARENT_DOMAIN}"
TRANSPORT = "remote_smtp"

# GnuTLS priorities: Debian's default plus TLS 1.0 and 1.1, on both sides of the connection.
ALL_VERSIONS_PRIORITY = "NORMAL:+VERS-TLS1.0:+VERS-TLS1.1"


def _route_list(routes: tuple[Route, ...]) -> str:
    for route in routes:
        if route.transport != TRANSPORT or route.client_versions != frozenset(TlsVersion):
            raise ValueError(f"{route.domain}: Exim has one transport, offering every version")
    return " ; ".join(f"{route.domain} {route.server.ip}" for route in routes)


def _password_check(login: Login) -> str:
    """Exim's ``${if and{{eq{$auth2}{USER}}{eq{$auth3}{PASSWORD}}}}`` for PLAIN's fields."""
    user_matches = "{eq{$auth2}{" + login.user + "}}"
    password_matches = "{eq{$auth3}{" + login.password + "}}"
    return "${if and{" + user_matches + password_matches + "}}"


def exim_conf(workspace: Workspace, certificate: Path, private_key: Path) -> str:
    domains = " : ".join(route.domain for route in EXIM_ROUTES)
    login = EXIM_LOGIN
    return f"""\
# Written by the mailtls log tests; rewritten at every start.
primary_hostname = {HOST_NAME}
exim_path = {workspace.exim_binary}
spool_directory = {workspace.exim_spool_dir}
log_file_path = {workspace.exim_log_dir}/%slog
pid_file_path = {workspace.exim_pid_file}
local_interfaces = <; {EXIM_MX.ip}
daemon_smtp_ports = {EXIM_MX.port}
keep_environment =

# No DNS and no ident: clients are logged as H=(helo) [address].
host_lookup =
helo_lookup_domains =
rfc1413_hosts =

tls_advertise_hosts = *
tls_certificate = {certificate}
tls_privatekey = {private_key}
tls_require_ciphers = {ALL_VERSIONS_PRIORITY}
auth_advertise_hosts = ${{if def:tls_in_cipher {{*}}{{}}}}

acl_smtp_rcpt = acl_check_rcpt

begin acl

acl_check_rcpt:
  accept domains = {SINK_DOMAIN}
  accept authenticated = *
  deny message = relay not permitted

begin routers

sink:
  driver = redirect
  domains = {SINK_DOMAIN}
  data = :blackhole:

fleet:
  driver = manualroute
  domains = {domains}
  transport = {TRANSPORT}
  route_list = {_route_list(EXIM_ROUTES)}

begin transports

{TRANSPORT}:
  driver = smtp
  interface = {EXIM_MX.ip}
  tls_require_ciphers = {ALL_VERSIONS_PRIORITY}

begin retry

*  *  F,1m,10s

begin authenticators

plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = {_password_check(login)}
  server_set_id = $auth2
"""


def start_command(workspace: Workspace) -> list[str]:
    # -bdf: the daemon in the foreground, a child of the supervisor that reaps it.
    return [str(workspace.exim_binary), "-C", str(workspace.exim_config), "-bdf"]


def queue_count_command(workspace: Workspace) -> list[str]:
    return [str(workspace.exim_binary), "-C", str(workspace.exim_config), "-bpc"]
