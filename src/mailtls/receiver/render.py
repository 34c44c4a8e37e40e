"""Records as JSON and as terminal text: sender IP -> verdict -> fix.

Pure. Record texts were sanitised when recorded; JSON is written with ASCII escapes, and text
output passes every field through ``sanitise.clean`` once more, so a record read from a store
someone else wrote cannot carry terminal control sequences either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from mailtls.receiver.models import ReceivedSession
from mailtls.receiver.sanitise import clean
from mailtls.render.jsonout import to_jsonable, utc_timestamp

RECEIVE_SCHEMA_VERSION = "1"


def as_document(record: ReceivedSession, record_id: int | None) -> dict[str, object]:
    document = to_jsonable(record)
    assert isinstance(document, dict)
    return {"id": record_id, **document}


def json_line(record: ReceivedSession, record_id: int | None) -> str:
    return json.dumps(
        as_document(record, record_id), separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def json_document(records: Iterable[tuple[int, ReceivedSession]]) -> str:
    return json.dumps(
        {
            "schema_version": RECEIVE_SCHEMA_VERSION,
            "sessions": [as_document(record, record_id) for record_id, record in records],
        },
        indent=2,
        ensure_ascii=True,
        allow_nan=False,
    )


def _shown(value: object, limit: int = 80) -> str:
    return clean(str(value), limit) or "-" if value is not None else "-"


def _tls_text(record: ReceivedSession) -> str:
    if record.tls is None:
        return "plaintext"
    if record.tls.version is None:
        return "TLS failed"
    return f"{record.tls.version.value} {record.tls.cipher or ''}".strip()


def summary_line(record_id: int | None, record: ReceivedSession) -> str:
    product = record.product.name if record.product.product else "unknown software"
    fix = record.remedy.summary if record.remedy is not None else "nothing to fix"
    if record.verdict.value == "no_mail":
        fix = f"session ended: {record.end.value}"
    return (
        f"{record_id if record_id is not None else '-':>5}  "
        f"{utc_timestamp(record.started_at)}  {_shown(record.client_ip, 45)}  "
        f"{_shown(record.helo, 40)}  {_tls_text(record)}  -> {record.verdict.value}  "
        f"({_shown(product, 60)})  -> {_shown(fix, 120)}"
    )


def render_list(records: Iterable[tuple[int, ReceivedSession]]) -> str:
    lines = [summary_line(record_id, record) for record_id, record in records]
    if not lines:
        return "no sessions recorded yet\n"
    header = "   ID  started               client  helo  tls  -> verdict  (product)  -> fix"
    return "\n".join([header, *lines]) + "\n"


def render_show(record_id: int, record: ReceivedSession) -> str:
    tls = record.tls
    lines = [
        f"session {record_id}: {_shown(record.client_ip, 45)} port {record.client_port} "
        f"-> {_shown(record.listener)}",
        f"  time        {utc_timestamp(record.started_at)} to {utc_timestamp(record.ended_at)}",
        f"  reverse     {_shown(record.reverse_name)}",
        f"  {'EHLO' if record.ehlo else 'HELO'}        {_shown(record.helo)}",
        f"  STARTTLS    {'offered' if record.starttls_offered else 'not offered'}, "
        + ("not used" if tls is None else "used"),
    ]
    if tls is not None:
        lines += [
            f"  TLS         {tls.version.value if tls.version else 'handshake failed'}"
            + (f", {tls.cipher} ({tls.bits} bits)" if tls.cipher else ""),
            f"  SNI         {_shown(tls.sni)}",
            f"  client cert {_shown(tls.client_certificate)}",
            f"  first command over TLS  {_shown(tls.before_command)}",
        ]
        if tls.error:
            lines.append(f"  TLS error   {_shown(tls.error, 200)}")
    for number, message in enumerate(record.messages, 1):
        headers = message.headers
        lines += [
            f"  message {number}: from <{_shown(message.mail_from)}> "
            f"to {', '.join(f'<{_shown(r)}>' for r in message.recipients) or 'nobody'}"
            + (
                f"; refused {', '.join(f'<{_shown(r)}>' for r in message.refused_recipients)}"
                if message.refused_recipients
                else ""
            ),
            f"    size {message.size if message.size is not None else '-'} bytes; "
            f"reply {_shown(message.reply, 120)}",
            f"    Subject: {_shown(headers.subject)}",
            f"    From: {_shown(headers.from_)}",
            f"    Message-ID: {_shown(headers.message_id)}",
            f"    X-Mailer: {_shown(headers.x_mailer)}",
            f"    Received: {_shown(headers.first_received, 200)}",
        ]
    lines += [
        f"  commands    {' '.join(record.commands) or '-'}",
        f"  ended       {record.end.value}",
        f"  policy      {record.policy.value}",
        f"  product     {_shown(record.product.name)}"
        + (f" {record.product.version}" if record.product.version else "")
        + (
            f" ({record.product.confidence.value}: {'; '.join(record.product.evidence)})"
            if record.product.evidence
            else ""
        ),
        f"  verdict     {record.verdict.value}: {record.verdict.meaning}",
    ]
    if record.remedy is not None:
        lines.append(f"  fix         {record.remedy.summary}")
        lines += [f"    - {step}" for step in record.remedy.steps]
        lines += [f"    source: {url}" for url in record.remedy.sources]
    return "\n".join(lines) + "\n"
