from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from mailtls.models import DomainReport
from mailtls.reports.csv import COLUMNS, render_csv, safe, write_csv
from tests.unit.reports import samples

RUN = samples.run_domains()


def rows(*domains: DomainReport) -> list[dict[str, str]]:
    text = render_csv(samples.run_info(), domains)
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def test_one_row_per_address_with_its_domain_summary() -> None:
    table = rows(samples.modern())
    assert [(r["mx_host"], r["ip"]) for r in table] == [
        ("mx1.example.com", "192.0.2.10"),
        ("mx1.example.com", "2001:db8::10"),
        ("mx2.example.com", "192.0.2.20"),
    ]
    assert {r["domain"] for r in table} == {"example.com"}
    assert {r["best_tls"] for r in table} == {"TLSv1.2"}
    assert {r["exo_inbound"] for r in table} == {"tls12"}
    assert {r["worst_severity"] for r in table} == {"warning"}
    mx2 = table[2]
    assert mx2["mx_preference"] == "20"
    assert (mx2["tls1_2"], mx2["tls1_3"]) == ("supported", "unsupported")
    assert mx2["negotiated_cipher"] == "ECDHE-RSA-AES256-GCM-SHA384"
    assert mx2["certificate_days_left"] == "12"
    assert mx2["findings"] == "TLS13_UNSUPPORTED CERT_EXPIRES_SOON"
    assert table[0]["findings"] == ""
    assert table[0]["software"] == "Postfix"


def test_a_domain_without_addresses_has_one_row() -> None:
    (row,) = rows(samples.nxdomain())
    assert row["domain_status"] == "nxdomain"
    assert row["domain_findings"] == "DOMAIN_NXDOMAIN"
    assert row["ip"] == row["mx_host"] == ""


def test_an_mx_host_without_addresses_has_its_own_row() -> None:
    table = rows(samples.rate_limited())
    assert [(r["mx_host"], r["ip"], r["findings"]) for r in table] == [
        ("mx.busy.example", "192.0.2.99", "RATE_LIMITED"),
        ("mx-old.busy.example", "", "MX_UNRESOLVABLE"),
    ]
    assert table[0]["address_status"] == "rate_limited"
    assert table[0]["starttls"] == ""  # unknown


def test_booleans_and_negative_numbers_read_as_such() -> None:
    (row,) = rows(samples.legacy_postfix())
    assert row["certificate_days_left"] == "-40"  # a number from us, never quoted
    assert row["certificate_trusted"] == "no"
    assert row["certificate_name_matches"] == "yes"
    assert row["starttls"] == "yes"


def test_server_text_never_becomes_a_formula() -> None:
    assert safe("=1+1") == "'=1+1"
    assert safe("+1") == "'+1"
    assert safe("-1") == "'-1"
    assert safe("@SUM(A1)") == "'@SUM(A1)"
    assert safe("mx.example.com") == "mx.example.com"
    assert safe("a\x1b[31mb") == "a\\x1b[31mb"
    (row,) = rows(samples.script_injection())
    assert row["negotiated_cipher"] == samples.ATTRIBUTE_BREAKOUT
    assert row["certificate_name"] == '<script>alert("cert")</script>'


def test_every_run_domain_has_rows_and_the_counts_add_up() -> None:
    table = rows(*RUN)
    addresses = sum(max(1, len(h.addresses)) for d in RUN for h in d.mx_hosts)
    without_hosts = sum(1 for d in RUN if not d.mx_hosts)
    assert len(table) == addresses + without_hosts
    assert len({r["domain"] for r in table}) == len(RUN)
    assert {r["run_id"] for r in table} == {"7"}


def test_rows_are_written_as_domains_are_read() -> None:
    seen: list[str] = []
    out = io.StringIO()

    def domains() -> Iterator[DomainReport]:
        for domain in RUN:
            # Everything of the previous domain is already written when the next one is read.
            seen.append(out.getvalue())
            yield domain

    write_csv(samples.run_info(), domains(), out)
    assert all(before in out.getvalue() for before in seen)
    assert seen[3].count("\n") > seen[1].count("\n") > 1
