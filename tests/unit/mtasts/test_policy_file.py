"""The MTA-STS policy file (RFC 8461 3.2) and how its mx patterns cover MX hosts (4.1)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtls.models import MtaStsMode, MtaStsPolicy
from mailtls.mtasts.policy_file import MAX_AGE_LIMIT, mx_pattern_matches, parse_policy

# RFC 8461 3.2's example, with CRLF as the RFC writes the lines.
RFC_EXAMPLE = (
    "version: STSv1\r\n"
    "mode: enforce\r\n"
    "mx: mail.example.com\r\n"
    "mx: *.example.net\r\n"
    "mx: backupmx.example.com\r\n"
    "max_age: 604800\r\n"
)
RFC_POLICY = MtaStsPolicy(
    "STSv1",
    MtaStsMode.ENFORCE,
    ("mail.example.com", "*.example.net", "backupmx.example.com"),
    604800,
)
# Microsoft's own policy, which Exchange Online customers copy.
EXCHANGE_ONLINE = (
    "version: STSv1\nmode: enforce\nmx: *.mail.protection.outlook.com\nmax_age: 604800\n"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (RFC_EXAMPLE, RFC_POLICY),
        (RFC_EXAMPLE.replace("\r\n", "\n"), RFC_POLICY),  # LF lines
        (RFC_EXAMPLE.rstrip("\r\n"), RFC_POLICY),  # no terminator after the last field
        (RFC_EXAMPLE.replace(": ", ":\t "), RFC_POLICY),  # delim = ":" *WSP
        (RFC_EXAMPLE.replace("\r\n", " \t\r\n"), RFC_POLICY),  # *WSP after a field
        (
            EXCHANGE_ONLINE,
            MtaStsPolicy("STSv1", MtaStsMode.ENFORCE, ("*.mail.protection.outlook.com",), 604800),
        ),
        (
            "version: STSv1\nmode: testing\nmx: mx.example.org\nmax_age: 86400\n",
            MtaStsPolicy("STSv1", MtaStsMode.TESTING, ("mx.example.org",), 86400),
        ),
        # mode none needs no mx (RFC 8461 3.2: mx is required "except when mode is none")
        ("version: STSv1\nmode: none\nmax_age: 0\n", MtaStsPolicy("STSv1", MtaStsMode.NONE, (), 0)),
        # unknown fields are ignored, repeated ones count once (the first), mx every time
        (
            "mode: enforce\nversion: STSv1\nx-note: any text, even ünïcode: ok\n"
            "mode: testing\nmx: a.example\nmx: b.example\nmax_age: 31557600\nmax_age: 1\n",
            MtaStsPolicy("STSv1", MtaStsMode.ENFORCE, ("a.example", "b.example"), MAX_AGE_LIMIT),
        ),
    ],
)
def test_valid_policies(text: str, expected: MtaStsPolicy) -> None:
    assert parse_policy(text) == (expected, ())


VALID = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 604800\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the policy is empty"),
        ("\n", "line 1: blank line"),
        (VALID + "\n", "line 5: blank line"),
        (VALID.replace("mode: enforce\n", "mode: enforce\n\n"), "line 3: blank line"),
        (VALID.replace("STSv1", "STSv2"), "line 1: version must be 'STSv1', not 'STSv2'"),
        (
            VALID.replace("enforce", "Enforce"),
            "mode must be enforce, testing or none, not 'Enforce'",
        ),
        (VALID.replace("enforce", "report"), "not 'report'"),  # an old draft's mode
        (VALID.replace("604800", "-1"), "max_age must be a number of seconds"),
        (VALID.replace("604800", "1w"), "not '1w'"),
        (VALID.replace("604800", "31557601"), "max_age 31557601 is above the maximum of 31557600"),
        (VALID.replace("604800", "12345678901"), "up to 10 digits"),
        (VALID.replace("mail.example.com", "mail.example.com."), "no trailing dot"),
        (
            VALID.replace("mail.example.com", "*.*.example.com"),
            "mx '*.*.example.com' is no host name",
        ),
        (VALID.replace("mail.example.com", "mail*.example.com"), "is no host name"),
        (VALID.replace("mail.example.com", "-mail.example.com"), "is no host name"),
        (VALID.replace("mail.example.com", "192.0.2.1:25"), "is no host name"),
        (VALID.replace("mail.example.com", ""), "mx '' is no host name"),
        (VALID.replace("mode: enforce", "mode = enforce"), "line 2: no 'key: value' field"),
        (VALID.replace("mode:", "mode :"), "line 2: 'mode ' is no field name"),
        (VALID.replace("mode: enforce\n", ""), "the mode field is missing"),
        (VALID.replace("version: STSv1\n", ""), "the version field is missing"),
        (VALID.replace("max_age: 604800\n", ""), "the max_age field is missing"),
        (
            VALID.replace("mode:", "Mode:"),
            "the mode field is missing ('Mode' is not it: names are case-sensitive)",
        ),
        (VALID.replace("mx: mail.example.com\n", ""), "no mx field"),
        (
            VALID.replace("testing", "x")
            .replace("mode: enforce", "mode: testing")
            .replace("mx: mail.example.com\n", ""),
            "no mx field",
        ),
        (VALID + "note:\n", "the value of 'note' is empty"),
        (VALID + "note: a\x07b\n", "control characters"),
        ("\ufeff" + VALID, "byte order mark"),
        ("<html><body>Not found</body></html>", "line 1: no 'key: value' field"),
        ('{"version": "STSv1"}', "is no field name"),
    ],
)
def test_invalid_policies_say_why(text: str, problem: str) -> None:
    policy, problems = parse_policy(text)
    assert policy is None
    assert any(problem in found for found in problems), problems


def test_problems_are_bounded_for_garbage() -> None:
    policy, problems = parse_policy("garbage\n" * 100_000)
    assert policy is None
    assert len(problems) == 9
    assert problems[-1] == "and 99996 more problems"  # 100000 bad lines, 4 missing fields


def test_a_megabyte_policy_is_parsed_quickly() -> None:
    started = time.perf_counter()
    parse_policy(VALID + "x: " + "a " * 500_000 + "b\n")
    parse_policy("mx: " + "a" * 1_000_000 + "!")
    parse_policy("mx: " + "a." * 500_000 + "-")
    assert time.perf_counter() - started < 2.0


@given(st.text(max_size=400))
@settings(max_examples=300)
def test_random_text_yields_a_policy_or_problems(text: str) -> None:
    policy, problems = parse_policy(text)
    assert (policy is None) == bool(problems)
    if policy is not None:
        assert 0 <= policy.max_age <= MAX_AGE_LIMIT
        assert policy.mx or policy.mode is MtaStsMode.NONE


@given(
    st.lists(
        st.sampled_from(
            [
                "version: STSv1",
                "mode: enforce",
                "mode: testing",
                "mx: a.example",
                "mx: *.b.example",
                "max_age: 86400",
                "x: y",
                "",
                "mode: bogus",
                "max_age: 99999999999",
            ]
        ),
        max_size=8,
    ),
    st.sampled_from(["\n", "\r\n"]),
)
def test_random_policies_from_real_lines(lines: list[str], newline: str) -> None:
    policy, problems = parse_policy(newline.join(lines))
    assert (policy is None) == bool(problems)


# --- mx patterns -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "host", "covered"),
    [
        ("mail.example.com", "mail.example.com", True),
        ("mail.example.com", "MAIL.Example.COM.", True),
        ("Mail.Example.com", "mail.example.com", True),
        ("mail.example.com", "mail2.example.com", False),
        ("mail.example.com", "example.com", False),
        # RFC 8461 4.1: "*.example.com" covers "mx1.example.com" only, one label deep
        ("*.example.com", "mx1.example.com", True),
        ("*.example.com", "MX1.EXAMPLE.COM.", True),
        ("*.example.com", "example.com", False),
        ("*.example.com", "a.mx1.example.com", False),
        ("*.example.com", "mx1.example.net", False),
        ("*.mail.protection.outlook.com", "contoso-com.mail.protection.outlook.com", True),
        ("*.mail.protection.outlook.com", "mail.protection.outlook.com", False),
        # no other kind of wildcard
        ("*", "example.com", False),
        ("mx*.example.com", "mx1.example.com", False),
        ("*.*.example.com", "a.b.example.com", False),
        ("*.example.com", "*.example.com", False),
        ("", "example.com", False),
        ("example.com", "", False),
        ("*.", "a.", False),
        # A-labels and U-labels are one name
        ("*.xn--bcher-kva.example", "mx.bücher.example", True),
        ("mx.bücher.example", "mx.xn--bcher-kva.example", True),
    ],
)
def test_mx_patterns(pattern: str, host: str, covered: bool) -> None:
    assert mx_pattern_matches(pattern, host) is covered


@given(st.text(max_size=40), st.text(max_size=40))
def test_random_patterns_never_raise(pattern: str, host: str) -> None:
    assert mx_pattern_matches(pattern, host) in (True, False)
