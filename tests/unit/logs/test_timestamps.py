from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtls.logs.syslog import address_domain, parse_syslog
from mailtls.logs.timestamps import YearGuesser, leading_timestamp, split_timestamp, stamp_time


@pytest.mark.parametrize(
    ("line", "moment", "rest"),
    [
        (
            "Nov 28 07:43:50 mx postfix/smtpd[1]: x",
            datetime(2024, 11, 28, 7, 43, 50, tzinfo=UTC),
            "mx postfix/smtpd[1]: x",
        ),
        ("Nov  3 07:43:50.123 mx p: y", datetime(2024, 11, 3, 7, 43, 50, tzinfo=UTC), "mx p: y"),
        (
            "2025-01-01 12:00:00 1abcDE-000000-0A <= a@b",
            datetime(2025, 1, 1, 12, tzinfo=UTC),
            "1abcDE-000000-0A <= a@b",
        ),
        (
            "2025-01-01T12:00:00.5+01:00 mx p: z",
            datetime(2025, 1, 1, 11, 0, 0, 500000, tzinfo=UTC),
            "mx p: z",
        ),
        ("<34>1 2025-01-01T12:00:00Z mx p: z", datetime(2025, 1, 1, 12, tzinfo=UTC), "mx p: z"),
        (
            "2023-01-11T16:00:01.010Z,EX01\\Default,08DB",
            datetime(2023, 1, 11, 16, 0, 1, 10000, tzinfo=UTC),
            "EX01\\Default,08DB",
        ),
        ("Feb 30 10:00:00 mx p: impossible date", None, "Feb 30 10:00:00 mx p: impossible date"),
        ("Xyz 10 10:00:00 mx p: no month", None, "Xyz 10 10:00:00 mx p: no month"),
        ("\x00\xff garbage", None, "\x00\xff garbage"),
        ("", None, ""),
    ],
)
def test_splits_known_stamps(line: str, moment: datetime | None, rest: str) -> None:
    stamped = split_timestamp(line, YearGuesser(2024))
    assert stamped.timestamp == moment
    assert stamped.rest == rest


def test_year_steps_forward_across_new_year_but_not_for_small_disorder() -> None:
    years = YearGuesser(2024)
    months = [11, 12, 12, 11, 1, 2]  # one late November line after December is no new year
    assert [years.year_for(m) for m in months] == [2024, 2024, 2024, 2024, 2025, 2025]


def test_syslog_frame() -> None:
    line = parse_syslog(
        "Nov 28 07:43:50 mx1 postfix-modern/smtpd[123]: connect from a[192.0.2.1]",
        YearGuesser(2026),
    )
    assert line is not None
    assert (line.host, line.program, line.pid, line.text) == (
        "mx1",
        "postfix-modern/smtpd",
        123,
        "connect from a[192.0.2.1]",
    )
    assert (
        parse_syslog("Nov 28 07:43:50 mx1 postfix/postlogd: started", YearGuesser(2026)).pid is None
    )  # type: ignore[union-attr]
    assert parse_syslog("not a syslog line", YearGuesser(2026)) is None


@pytest.mark.parametrize(
    ("address", "domain"),
    [
        ("user@Example.COM", "example.com"),
        ("<user@example.com.>", "example.com"),
        ("a@b@example.org", "example.org"),
        ("postmaster", None),
        ("@example.com", None),
        ("user@", None),
        ("user@exa mple.com", None),
        ("", None),
    ],
)
def test_address_domain(address: str, domain: str | None) -> None:
    assert address_domain(address) == domain


def test_a_pid_too_long_to_be_one_is_no_frame_not_an_error() -> None:
    line = "Nov 28 07:43:50 mx postfix/smtpd[" + "9" * 5000 + "]: connect from a[192.0.2.1]"
    assert parse_syslog(line, YearGuesser(2026)) is None


_STAMP_PARTS = st.tuples(
    st.sampled_from(["Jan", "Feb", "Jul", "Nov", "Dec"]),
    st.sampled_from([" 1", "29", "30", " 3", "3", "10"]),
    st.sampled_from(["00", "07", "23", "24"]),
    st.sampled_from(["00", "43", "59", "60"]),
    st.sampled_from(["00", "09", "59", "60", "٣٣", "5"]),
    st.sampled_from([" ", ".123 "]),
)


@settings(max_examples=1000)
@given(st.lists(_STAMP_PARTS, max_size=40))
def test_stamp_time_reads_stamps_as_leading_timestamp_does(stamps: list[tuple[str, ...]]) -> None:
    """stamp_time's shortcut for the seconds of the minute before gives the same times."""
    quick, reference = YearGuesser(2025), YearGuesser(2025)
    for month, day, hour, minute, second, tail in stamps:
        stamp = f"{month} {day} {hour}:{minute}:{second}{tail}"
        found = leading_timestamp(stamp, reference)
        assert stamp_time(stamp, quick) == (None if found is None else found[0])


def test_stamp_time_steps_the_year_after_a_stamp_of_another_layout() -> None:
    """A January minute read before, then November ("Nov 3", which the shortcut does not
    keep), then that January minute again: a new year, as leading_timestamp says."""
    quick, reference = YearGuesser(2025), YearGuesser(2025)
    for stamp in ("Jan 10 00:43:00 ", "Nov 3 07:00:00 ", "Jan 10 00:43:09 "):
        found = leading_timestamp(stamp, reference)
        assert found is not None
        assert stamp_time(stamp, quick) == found[0]
    assert found[0].year == 2026
