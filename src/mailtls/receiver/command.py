"""``mailtls receive``: parse, build, run, print. Decisions live a layer down."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import signal
import socket
import ssl
import sys
import tempfile
from pathlib import Path

from mailtls.errors import UsageError
from mailtls.models import Endpoint
from mailtls.net.nameservers import Nameserver, parse_nameserver
from mailtls.receiver.contexts import server_context
from mailtls.receiver.limits import Caps
from mailtls.receiver.models import ReceivedSession, ReceivePolicy
from mailtls.receiver.protocol import remember_server_name
from mailtls.receiver.render import json_document, render_list, render_show
from mailtls.receiver.server import Receiver, RecordWriter, bound
from mailtls.receiver.settings import Acceptance, ReceiverSettings
from mailtls.store import Store, default_location
from mailtls.store.location import describe
from mailtls.tls.issuing import issue

DEFAULT_LISTEN = "127.0.0.1:2525"


def parse_listen(text: str) -> Endpoint:
    """``IP:PORT`` or ``[IPv6]:PORT``."""
    host, separator, port = text.strip().rpartition(":")
    host = host.strip("[]")
    try:
        address = ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        raise UsageError(f"--listen {text!r}: expected IP:PORT or [IPv6]:PORT") from None
    if not separator or not 0 <= number <= 65535:
        raise UsageError(f"--listen {text!r}: the port must be 0 to 65535")
    return Endpoint(ip=str(address), port=number)


def parse_acceptance(entries: list[str]) -> Acceptance:
    domains: set[str] = set()
    addresses: set[str] = set()
    for entry in entries:
        value = entry.strip().lower().rstrip(".")
        if not value or any(char.isspace() for char in value):
            raise UsageError(f"--accept {entry!r}: expected a domain or an address")
        (addresses if "@" in value else domains).add(value)
    return Acceptance(frozenset(domains), frozenset(addresses))


def settings_from(args: argparse.Namespace) -> ReceiverSettings:
    for name in ("max_size", "max_recipients", "max_per_ip", "max_per_ip_per_minute"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if args.idle_timeout <= 0 or args.session_timeout <= 0:
        raise UsageError("timeouts must be positive")
    return ReceiverSettings(
        listen=tuple(parse_listen(text) for text in (args.listen or [DEFAULT_LISTEN])),
        acceptance=parse_acceptance(args.accept),
        hostname=args.hostname or socket.getfqdn(),
        policy=ReceivePolicy(args.policy),
        require_tls=args.require_tls,
        max_message_bytes=args.max_size,
        max_recipients=args.max_recipients,
        idle_timeout=args.idle_timeout,
        session_timeout=args.session_timeout,
        caps=Caps(
            per_address=args.max_per_ip,
            per_address_per_minute=args.max_per_ip_per_minute,
            total=args.max_connections,
        ),
    )


def _context(args: argparse.Namespace, settings: ReceiverSettings, work: Path) -> ssl.SSLContext:
    if bool(args.cert) != bool(args.key):
        raise UsageError("--cert and --key go together")
    if args.cert:
        certificate, key = Path(args.cert), Path(args.key)
    else:
        certificate, key = issue((settings.hostname,)).write(work, "receiver")
        sys.stderr.write(
            f"mailtls: no --cert/--key: using a self-signed certificate for {settings.hostname} "
            "(senders that verify certificates will not start TLS with it)\n"
        )
    try:
        return server_context(
            settings.policy, certificate, key, on_server_name=remember_server_name
        )
    except (OSError, ssl.SSLError) as problem:
        raise UsageError(f"cannot load the certificate or key: {problem}") from None


def run_receiver(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    nameservers = (parse_nameserver(args.nameserver),) if args.nameserver else ()
    if settings.acceptance.empty:
        sys.stderr.write("mailtls: no --accept: every recipient will be refused with 550\n")
    store = None if args.no_store else Store(_location(args))
    try:
        with tempfile.TemporaryDirectory(prefix="mailtls-receive-") as work:
            context = _context(args, settings, Path(work))
            writer = RecordWriter(
                store.save_received_session if store is not None else None,
                sys.stdout if args.json_lines else None,
            )
            writer.start()
            try:
                asyncio.run(_serve(settings, context, writer, nameservers, args.for_seconds))
            finally:
                writer.close()
            where = f" in {describe(store.location)}" if store is not None else ""
            sys.stderr.write(f"mailtls: {writer.written} sessions recorded{where}\n")
            for failure in writer.failures[:5]:
                sys.stderr.write(f"mailtls: a session could not be stored: {failure}\n")
            return 0 if not writer.failures else 74
    finally:
        if store is not None:
            store.close()


async def _serve(
    settings: ReceiverSettings,
    context: ssl.SSLContext,
    writer: RecordWriter,
    nameservers: tuple[Nameserver, ...],
    for_seconds: float | None,
) -> None:
    receiver = Receiver(settings, context, writer.put, nameservers)
    try:
        await receiver.start()
    except OSError as problem:
        await receiver.stop()
        raise UsageError(f"cannot listen: {problem.strerror or problem}") from None
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stopping.set)
    shown = ", ".join(bound(settings.listen, receiver.servers))
    sys.stderr.write(
        f"mailtls: receiving on {shown} (policy {settings.policy.value}"
        f"{', TLS required' if settings.require_tls else ''}); stop with Ctrl-C\n"
    )
    sys.stderr.flush()
    try:
        if for_seconds is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), for_seconds)
        else:
            await stopping.wait()
    finally:
        await receiver.stop()


def _location(args: argparse.Namespace) -> str:
    where: str = args.db or default_location()
    if "://" not in where:
        Path(where).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return where


def _records(args: argparse.Namespace) -> list[tuple[int, ReceivedSession]]:
    with Store(_location(args)) as store:
        return store.received_sessions(client_ip=args.client, limit=args.last)


def run_list(args: argparse.Namespace) -> int:
    records = _records(args)
    sys.stdout.write(json_document(records) + "\n" if args.json else render_list(records))
    return 0


def run_show(args: argparse.Namespace) -> int:
    if args.session is None:
        raise UsageError("receive show needs a session id (see `mailtls receive list`)")
    with Store(_location(args)) as store:
        record = store.received_session(args.session)
    if args.json:
        sys.stdout.write(json_document([(args.session, record)]) + "\n")
    else:
        sys.stdout.write(render_show(args.session, record))
    return 0


def run(args: argparse.Namespace) -> int:
    """The handler of ``mailtls receive``."""
    if args.action == "list":
        return run_list(args)
    if args.action == "show":
        return run_show(args)
    if args.session is not None:
        raise UsageError("a session id goes with `show` only")
    return run_receiver(args)
