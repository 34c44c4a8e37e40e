"""A deterministic, realistic Postfix 3.7 mail log of any length, and what it contains.

    python3 -m bench.generate_postfix_log --lines 5000000 [--seed 1] [--output FILE] [--check]

The log is what one mail relay ("mx1") writes over days of traffic: inbound SMTP sessions from
thousands of peers (TLS 1.0 to 1.3 or plaintext, each peer always the same), SMTP AUTH
submissions on port 587, outbound deliveries to thousands of destinations (TLS or plaintext,
trusted or not, some not answering), local deliveries, and the noise around them (cleanup and
qmgr lines, clients that only say EHLO, relay refusals, failed TLS handshakes). Sessions overlap
in time, so their lines interleave, and no two open sessions share a process id, as in a real
log.

Every line has a shape that a real Postfix 3.7 wrote: ``bench/samples/postfix-3.7.log`` was
captured from real Postfix instances (``bench.capture_postfix_lines``), and ``--check`` verifies
that every shape the generator writes occurs there (a shape is a line with its variable parts,
such as times, ids, addresses and numbers, replaced by placeholders).

Alongside the log, :class:`Truth` counts what is in it: sessions per direction, role and TLS
version, distinct peers, messages received, delivered and deferred. The benchmark compares the
tools' answers with it.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import itertools
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

from bench.machine import REPOSITORY

GENERATOR_VERSION = 1  # bump when the output for a given seed and length changes
SAMPLE = REPOSITORY / "bench" / "samples" / "postfix-3.7.log"
WORK = REPOSITORY / "bench" / ".work" / "logs"
YEAR = 2025  # the log's year (syslog stamps carry none): pass --year 2025 to readers
START = (11, 3)  # month, day the log starts, at midnight; ~10 days per 5 million lines
MEAN_SECONDS_BETWEEN_SESSIONS = 1.2

HOST = "mx1"
LOCAL_DOMAIN = "example.org"

# TLS summaries as Postfix 3.7 with OpenSSL 3.0 logs them (tls_log_summary); the TLS 1.3 suffix
# (key-exchange, server-signature, server-digest) is logged for TLS 1.3 only. Every cipher here
# occurs with its version in a real capture (bench/samples, the test fleet's logs).
TLS_SUMMARIES = {
    "TLSv1.3": (
        "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
        "server-signature RSA-PSS (2048 bits) server-digest SHA256",
        "TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) key-exchange X25519 "
        "server-signature RSA-PSS (2048 bits) server-digest SHA256",
    ),
    "TLSv1.2": (
        "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
        "TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits)",
        "TLSv1.2 with cipher ECDHE-RSA-CHACHA20-POLY1305 (256/256 bits)",
    ),
    "TLSv1.1": (
        "TLSv1.1 with cipher ECDHE-RSA-AES256-SHA (256/256 bits)",
        "TLSv1.1 with cipher AES256-SHA (256/256 bits)",
    ),
    "TLSv1": ("TLSv1 with cipher ECDHE-RSA-AES256-SHA (256/256 bits)",),
}
PLAINTEXT = "plaintext"
VERSIONS = ("TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1", PLAINTEXT)

# What each kind of peer speaks (shares of peers, not of sessions).
INBOUND_MIX = (0.50, 0.33, 0.02, 0.03, 0.12)
SUBMISSION_MIX = (0.45, 0.45, 0.02, 0.08, 0.0)  # port 587 requires TLS
OUTBOUND_MIX = (0.55, 0.33, 0.02, 0.02, 0.08)

INBOUND_PEERS = 20_000
SUBMISSION_CLIENTS = 800
DESTINATIONS = 6_000
DOWN_SHARE = 0.02  # destinations that refuse connections: deferred deliveries
UNTRUSTED_SHARE = 0.25  # destinations whose certificate does not verify

# Kinds of session started, with their weights.
SESSION_KINDS = (
    ("inbound", 0.56),
    ("submission", 0.16),
    ("ehlo_only", 0.12),
    ("rejected", 0.12),
    ("tls_failed", 0.04),
)

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # 2025 is no leap year


@dataclass(frozen=True)
class Peer:
    name: str  # "unknown" when the address has no (verified) name
    ip: str
    version: str  # one of VERSIONS

    @property
    def label(self) -> str:
        return f"{self.name}[{self.ip}]"


@dataclass
class Truth:
    """What the generated log contains, counted while writing it."""

    generator_version: int = GENERATOR_VERSION
    seed: int = 0
    year: int = YEAR
    lines: int = 0
    tls_lines: int = 0  # lines with "TLS connection established"
    # "inbound/mta/TLSv1.2" -> sessions; as the issue defines them: a session without an
    # established TLS line (only EHLO, refused, failed handshake) counts as plaintext.
    sessions: dict[str, int] = field(default_factory=dict)
    peers: dict[str, int] = field(default_factory=dict)  # "inbound/mta" -> distinct IPs
    messages_received: int = 0
    messages_delivered: int = 0
    messages_deferred: int = 0
    rejected: int = 0
    sha256: str = ""


def _pool(
    rng: random.Random, count: int, mix: tuple[float, ...], make: Callable[[int, str], Peer]
) -> list[Peer]:
    versions = rng.choices(VERSIONS, weights=mix, k=count)
    return [make(number, version) for number, version in enumerate(versions)]


def _ip(block: int, number: int) -> str:
    # 198.18.0.0/15 is set aside for benchmarks (RFC 2544): 131 072 addresses, none real.
    return f"198.{18 + block}.{number // 254 % 256}.{number % 254 + 1}"


class _Log:
    """Postfix's side of the story: sessions turned into timed lines, merged in time order."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        self.inbound = _pool(
            rng,
            INBOUND_PEERS,
            INBOUND_MIX,
            lambda n, v: Peer(
                "unknown" if n % 5 < 2 else f"mx{n % 3 + 1}.peer{n}.example", _ip(0, n), v
            ),
        )
        self.submission = _pool(
            rng,
            SUBMISSION_CLIENTS,
            SUBMISSION_MIX,
            lambda n, v: Peer("unknown" if n % 2 else f"client{n}.dsl.example", _ip(1, n), v),
        )
        self.destinations = _pool(
            rng,
            DESTINATIONS,
            OUTBOUND_MIX,
            lambda n, v: Peer(f"mx{n % 2 + 1}.dest{n}.example", _ip(1, 40_000 + n), v),
        )
        self.down = {d.ip for d in self.destinations if rng.random() < DOWN_SHARE}
        self.untrusted = {d.ip for d in self.destinations if rng.random() < UNTRUSTED_SHARE}
        # A few peers send most of the mail (Zipf-like), as in real traffic.
        self.inbound_weights = list(
            itertools.accumulate(1 / (n + 1) ** 0.9 for n in range(INBOUND_PEERS))
        )
        self.destination_weights = list(
            itertools.accumulate(1 / (n + 1) ** 0.9 for n in range(DESTINATIONS))
        )
        self.kinds = [kind for kind, _ in SESSION_KINDS]
        self.kind_weights = list(itertools.accumulate(weight for _, weight in SESSION_KINDS))
        self.events: list[tuple[float, int, str]] = []  # (time, order, line)
        self.order = itertools.count()
        self.free_pids: dict[str, list[int]] = {}
        self.busy: list[tuple[float, str, int]] = []  # (idle from, program, pid)
        self.next_pid = 1000 + rng.randrange(5000)
        self.truth = Truth(seed=seed)
        self.peers_seen: dict[str, set[str]] = {}
        self.message_number = 0

    # --- small parts ---

    def _emit(self, at: float, program: str, pid: int, text: str) -> None:
        line = f"{HOST} {program}[{pid}]: {text}"
        heapq.heappush(self.events, (at, next(self.order), line))

    def _idle_until(self, now: float) -> None:
        """Processes whose last line is written by ``now`` may serve a session again."""
        while self.busy and self.busy[0][0] <= now:
            _, idle_program, idle_pid = heapq.heappop(self.busy)
            self.free_pids.setdefault(idle_program, []).append(idle_pid)

    def _pid(self, program: str) -> int:
        """An idle process of that program: one process, one session at a time."""
        free = self.free_pids.setdefault(program, [])
        if free and self.rng.random() > 0.01:  # now and then a process exits, a new one starts
            return free.pop(self.rng.randrange(len(free)))
        self.next_pid += 1 + self.rng.randrange(40)
        return self.next_pid

    def _release(self, program: str, pid: int, after: float) -> None:
        """The process is idle again once its last line (at ``after``) is written."""
        heapq.heappush(self.busy, (after, program, pid))

    def _queue_id(self) -> str:
        return f"{self.rng.getrandbits(44):011X}"

    def _count(self, direction: str, role: str, version: str, ip: str) -> None:
        key = f"{direction}/{role}"
        sessions = self.truth.sessions
        sessions[f"{key}/{version}"] = sessions.get(f"{key}/{version}", 0) + 1
        self.peers_seen.setdefault(key, set()).add(ip)

    def _delays(self) -> str:
        rng = self.rng
        parts = [round(rng.random() * 0.3, 2), round(rng.random() * 0.05, 2)]
        parts += [round(rng.random() * 0.4, 2), round(rng.random() * 0.5, 2)]
        shown = ["0" if part == 0 else f"{part:g}" for part in parts]
        return f"delay={sum(parts):.2g}, delays={'/'.join(shown)}"

    def _message_id(self, at: float, domain: str) -> str:
        self.message_number += 1
        return f"<{int(at * 1000):013d}.{self.message_number:06d}@{domain}>"

    # --- sessions ---

    def session(self, at: float) -> None:
        # Only processes idle at the start: the lines of one session lie after it.
        self._idle_until(at)
        kind = self.rng.choices(self.kinds, cum_weights=self.kind_weights)[0]
        if kind == "submission":
            client = self.rng.choice(self.submission)
            self._accept(at, "postfix/submission/smtpd", client, submission=True)
            return
        index = self.rng.choices(range(INBOUND_PEERS), cum_weights=self.inbound_weights)[0]
        peer = self.inbound[index]
        if kind == "inbound":
            self._accept(at, "postfix/smtpd", peer, submission=False)
        else:
            self._refuse(at, kind, peer)

    def _tls_established(self, at: float, program: str, pid: int, peer: Peer) -> None:
        summary = self.rng.choice(TLS_SUMMARIES[peer.version])
        established = f"Anonymous TLS connection established from {peer.label}: {summary}"
        self._emit(at, program, pid, established)
        self.truth.tls_lines += 1

    def _accept(self, at: float, program: str, peer: Peer, *, submission: bool) -> None:
        """A session that hands over one message: local delivery, or relayed out if submitted."""
        rng = self.rng
        pid = self._pid(program)
        tls = peer.version != PLAINTEXT
        qid = self._queue_id()
        self._emit(at, program, pid, f"connect from {peer.label}")
        step = at + 0.02 + rng.random() * 0.1
        if tls:
            self._tls_established(step, program, pid, peer)
            step += 0.05 + rng.random() * 0.1
        if submission:
            user = f"user{rng.randrange(5000)}@{LOCAL_DOMAIN}"
            client = f"{qid}: client={peer.label}, sasl_method=PLAIN, sasl_username={user}"
            sender = user
            commands = "ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8"
        else:
            sender = f"{rng.choice(('news', 'info', 'noreply', 'billing'))}@{peer.name}"
            if peer.name == "unknown":
                sender = f"bounce-{rng.randrange(10**6)}@list{rng.randrange(900)}.example"
            client = f"{qid}: client={peer.label}"
            commands = (
                "ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7"
                if tls
                else "ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"
            )
        self._emit(step, program, pid, client)
        cleanup_pid = self._pid("postfix/cleanup")
        message_id = self._message_id(step, sender.split("@", 1)[1])
        self._emit(step + 0.01, "postfix/cleanup", cleanup_pid, f"{qid}: message-id={message_id}")
        self._release("postfix/cleanup", cleanup_pid, step + 0.01)
        size = int(rng.lognormvariate(9.5, 1.2)) + 300
        self._emit(
            step + 0.02,
            "postfix/qmgr",
            QMGR_PID,
            f"{qid}: from=<{sender}>, size={size}, nrcpt=1 (queue active)",
        )
        self.truth.messages_received += 1
        end = step + 0.03 + rng.random() * 0.05
        self._emit(end, program, pid, f"disconnect from {peer.label} {commands}")
        self._release(program, pid, end)
        self._count("inbound", "submission" if submission else "mta", peer.version, peer.ip)
        if submission:
            self._deliver_out(step + 0.03 + rng.random() * 0.2, qid)
        else:
            self._deliver_locally(step + 0.03 + rng.random() * 0.05, qid)

    def _deliver_locally(self, at: float, qid: str) -> None:
        pid = self._pid("postfix/virtual")
        rcpt = f"{self.rng.choice(('anna', 'ben', 'eve'))}{self.rng.randrange(3000)}"
        self._emit(
            at,
            "postfix/virtual",
            pid,
            f"{qid}: to=<{rcpt}@{LOCAL_DOMAIN}>, relay=virtual, {self._delays()}, dsn=2.0.0, "
            "status=sent (delivered to maildir)",
        )
        self._release("postfix/virtual", pid, at)
        self._emit(at + 0.001, "postfix/qmgr", QMGR_PID, f"{qid}: removed")
        self.truth.messages_delivered += 1

    def _deliver_out(self, at: float, qid: str) -> None:
        rng = self.rng
        index = rng.choices(range(DESTINATIONS), cum_weights=self.destination_weights)[0]
        destination = self.destinations[index]
        pid = self._pid("postfix/smtp")
        rcpt = f"{rng.choice(('sales', 'team', 'kim'))}{rng.randrange(500)}@dest{index}.example"
        where = f"{destination.label}:25"
        if destination.ip in self.down:
            refused = f"connect to {where}: Connection refused"
            self._emit(at, "postfix/smtp", pid, refused)
            self._emit(
                at + 0.001,
                "postfix/smtp",
                pid,
                f"{qid}: to=<{rcpt}>, relay=none, {self._delays()}, dsn=4.4.1, "
                f"status=deferred ({refused})",
            )
            self._release("postfix/smtp", pid, at + 0.001)
            self.truth.messages_deferred += 1
            return
        if destination.version != PLAINTEXT:
            trust = "Untrusted" if destination.ip in self.untrusted else "Trusted"
            summary = rng.choice(TLS_SUMMARIES[destination.version])
            established = f"{trust} TLS connection established to {where}: {summary}"
            self._emit(at, "postfix/smtp", pid, established)
            self.truth.tls_lines += 1
            at += 0.05 + rng.random() * 0.2
        self._emit(
            at,
            "postfix/smtp",
            pid,
            f"{qid}: to=<{rcpt}>, relay={where}, {self._delays()}, dsn=2.0.0, "
            f"status=sent (250 2.0.0 Ok: queued as {self._queue_id()})",
        )
        self._release("postfix/smtp", pid, at)
        self._emit(at + 0.001, "postfix/qmgr", QMGR_PID, f"{qid}: removed")
        self._count("outbound", "mta", destination.version, destination.ip)
        self.truth.messages_delivered += 1

    def _refuse(self, at: float, kind: str, peer: Peer) -> None:
        """Sessions that carry no mail; none of them gets as far as TLS."""
        program = "postfix/smtpd"
        pid = self._pid(program)
        self._emit(at, program, pid, f"connect from {peer.label}")
        step = at + 0.02 + self.rng.random() * 0.1
        if kind == "ehlo_only":
            commands = "ehlo=1 quit=1 commands=2"
        elif kind == "rejected":
            rcpt = f"someone{self.rng.randrange(10**4)}@elsewhere{self.rng.randrange(500)}.example"
            domain = peer.name if peer.name != "unknown" else "spam.example"
            sender = f"x{self.rng.randrange(10**5)}@{domain}"
            self._emit(
                step,
                program,
                pid,
                f"NOQUEUE: reject: RCPT from {peer.label}: 554 5.7.1 <{rcpt}>: Relay access "
                f"denied; from=<{sender}> to=<{rcpt}> proto=ESMTP helo=<{peer.name}>",
            )
            self.truth.rejected += 1
            commands = "ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4"
        else:  # tls_failed
            self._emit(step, program, pid, f"SSL_accept error from {peer.label}: -1")
            self._emit(
                step,
                program,
                pid,
                "warning: TLS library problem: error:0A0000C1:SSL routines::no shared "
                "cipher:../ssl/statem/statem_srvr.c:2226:",
            )
            lost = f"lost connection after STARTTLS from {peer.label}"
            self._emit(step + 0.001, program, pid, lost)
            commands = "ehlo=1 starttls=0/1 commands=1/2"
        self._emit(step + 0.01, program, pid, f"disconnect from {peer.label} {commands}")
        self._release(program, pid, step + 0.01)
        self._count("inbound", "mta", PLAINTEXT, peer.ip)

    # --- the whole log ---

    def lines(self, at_least: int) -> Iterator[str]:
        """Stamped lines in time order; sessions keep starting until ``at_least`` lines are out,
        and every session started is finished."""
        clock = 0.0
        written = 0
        stamp_second = -1
        stamp = ""
        next_session = 0.0
        while self.events or written < at_least:
            if written < at_least and (not self.events or self.events[0][0] >= next_session):
                self.session(next_session)
                next_session += self.rng.expovariate(1 / MEAN_SECONDS_BETWEEN_SESSIONS)
                continue
            clock, _, line = heapq.heappop(self.events)
            second = int(clock)
            if second != stamp_second:
                stamp_second, stamp = second, _syslog_stamp(second)
            written += 1
            yield f"{stamp} {line}"


QMGR_PID = 1042  # one queue manager for the whole log, as in a real instance


def _syslog_stamp(second: int) -> str:
    """RFC 3164 time stamp of ``second`` seconds after the log's start."""
    month, day = START
    days, rest = divmod(second, 86_400)
    day += days
    while day > _DAYS_IN_MONTH[month - 1]:
        day -= _DAYS_IN_MONTH[month - 1]
        month = month % 12 + 1
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{_MONTHS[month - 1]} {day:>2} {hours:02}:{minutes:02}:{seconds:02}"


def generate(at_least: int, seed: int, out: TextIO) -> Truth:
    """Write the log (at least ``at_least`` lines) and return what it contains."""
    log = _Log(seed)
    digest = hashlib.sha256()
    batch: list[str] = []
    for line in log.lines(at_least):
        batch.append(line)
        if len(batch) == 10_000:
            _write(out, batch, digest)
            log.truth.lines += len(batch)
            batch = []
    _write(out, batch, digest)
    log.truth.lines += len(batch)
    truth = log.truth
    truth.peers = {key: len(ips) for key, ips in sorted(log.peers_seen.items())}
    truth.sessions = dict(sorted(truth.sessions.items()))
    truth.sha256 = digest.hexdigest()
    return truth


def _write(out: TextIO, batch: list[str], digest: hashlib._Hash) -> None:
    if batch:
        text = "\n".join(batch) + "\n"
        out.write(text)
        digest.update(text.encode())


# --- shapes -------------------------------------------------------------------------------------

# Placeholders for the parts of a line that vary, most specific first.
_SHAPE_RULES = (
    (re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ "), "<time> <host> "),
    (re.compile(r"\[\d+\]: "), "[<pid>]: "),
    (re.compile(r"<[^<>\s]*@[^<>\s]*>"), "<address>"),
    (re.compile(r"sasl_username=\S+"), "sasl_username=<user>"),
    (re.compile(r"[\w.-]+\[[0-9a-fA-F.:]+\]"), "<peer>"),
    (re.compile(r"\b[0-9A-F]{10,12}\b"), "<queue id>"),
    (re.compile(r"with cipher \S+"), "with cipher <cipher>"),
    (re.compile(r"helo=<[^>]*>"), "helo=<name>"),
    (re.compile(r"\b\d+(?:\.\d+)*\b"), "<n>"),
)


def shape(line: str) -> str:
    """The line with times, ids, addresses, names and numbers replaced by placeholders."""
    for pattern, placeholder in _SHAPE_RULES:
        line = pattern.sub(placeholder, line)
    return line


def unknown_shapes(lines: Iterable[str], sample: Path = SAMPLE) -> Counter[str]:
    """Shapes among ``lines`` that the real capture does not have, with how often they occur."""
    known = {shape(line) for line in sample.read_text().splitlines()}
    return Counter(s for s in map(shape, lines) if s not in known)


# --- cached logs for the benchmark --------------------------------------------------------------


def ensure_log(at_least: int, seed: int, work: Path = WORK) -> tuple[Path, Truth]:
    """The log of that length and seed under ``work``, generated unless already there."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"postfix-{at_least}-seed{seed}.log"
    truth_path = path.with_suffix(".truth.json")
    if path.is_file() and truth_path.is_file():
        recorded = json.loads(truth_path.read_text())
        if recorded.get("generator_version") == GENERATOR_VERSION:
            return path, Truth(**recorded)
    partial = path.with_suffix(".partial")
    with partial.open("w", buffering=1 << 20) as out:
        truth = generate(at_least, seed, out)
    partial.replace(path)
    truth_path.write_text(json.dumps(asdict(truth), indent=2) + "\n")
    return path, truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m bench.generate_postfix_log", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--lines", type=int, default=1_000_000, help="at least this many")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, help="the log (default: standard output)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; check that every line shape occurs in bench/samples/postfix-3.7.log",
    )
    arguments = parser.parse_args(argv)
    if arguments.check:
        strange = unknown_shapes(_Log(arguments.seed).lines(arguments.lines))
        for line_shape, count in strange.most_common():
            print(f"{count:8d}  {line_shape}")
        print(f"{len(strange)} shapes not in {SAMPLE.relative_to(REPOSITORY)}", file=sys.stderr)
        return 1 if strange else 0
    if arguments.output is None:
        truth = generate(arguments.lines, arguments.seed, sys.stdout)
    else:
        with arguments.output.open("w", buffering=1 << 20) as out:
            truth = generate(arguments.lines, arguments.seed, out)
    print(json.dumps(asdict(truth), indent=2), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
