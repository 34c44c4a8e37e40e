"""The analysis: Windows releases with and without each update, Exchange thresholds, SCHANNEL and
.NET classifications, Postfix misconfigurations; severities and exit codes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mailtls.advise.analyse import AdviseInputs, WindowsText, analyse
from mailtls.advise.errors import InputError
from mailtls.advise.hotfixes import parse_systeminfo
from mailtls.advise.models import AdviceSeverity, AdviseReport, Effect, HotfixList, TlsConfiguration
from mailtls.advise.postfix import parse_mail_version, parse_openssl_version, parse_postfix_config
from mailtls.advise.registry import merge_registry
from mailtls.advise.textio import decode
from mailtls.knowledge.exchange_builds import parse_exchange_build
from mailtls.knowledge.windows import load_windows
from mailtls.models import TlsVersion
from tests.unit.advise import samples

REQUIRED, RECOMMENDED, INFO = (
    AdviceSeverity.REQUIRED,
    AdviceSeverity.RECOMMENDED,
    AdviceSeverity.INFO,
)
TODAY = date(2026, 11, 28)
ALL_GOOD_SCHANNEL = samples.schannel_export(tls10=(0, 1), tls11=(0, 1), tls12=(1, 0), tls13=(0, 1))


def registry(*bodies: str):  # type: ignore[no-untyped-def]
    return merge_registry(
        [
            (f"r{i}.reg", decode(samples.regedit_bytes(b), f"r{i}.reg"))
            for i, b in enumerate(bodies, 1)
        ]
    )


def run(**fields: object) -> AdviseReport:
    return analyse(
        AdviseInputs(**fields), today=TODAY, generated_at=datetime(2026, 11, 28, tzinfo=UTC)
    )  # type: ignore[arg-type]


def codes(report: AdviseReport) -> dict[str, AdviceSeverity]:
    found: dict[str, AdviceSeverity] = {}
    for item in report.checklist:
        found.setdefault(item.code, item.severity)
    return found


def windows(text: str) -> WindowsText:
    return WindowsText(text)


def hotfixes(*kbs: str) -> tuple[HotfixList, ...]:
    return (HotfixList(frozenset(kbs), "hotfixes.csv", "get-hotfix-csv"),)


# --- Windows releases with and without each update --------------------------------------------

RELEASE_UPDATES = {
    "Windows Server 2008 SP2": ("6.0.6002", ("KB4019276", "KB3154517")),
    "Windows Server 2008 R2": ("6.1.7601", ("KB3154518", "KB3140245", "KB3080079")),
    "Windows Server 2012": ("6.2.9200", ("KB3154519", "KB3140245", "KB3161949", "KB2973337")),
    "Windows Server 2012 R2": ("6.3.9600", ("KB3154520", "KB3161949", "KB2973337")),
}
EXPECTED_SEVERITY = {"KB4019276": REQUIRED, "KB3080079": INFO}


@pytest.mark.parametrize(
    ("caption", "missing"),
    [(caption, kb) for caption, (_, kbs) in RELEASE_UPDATES.items() for kb in kbs],
)
def test_each_missing_update_is_named_with_what_it_does(caption: str, missing: str) -> None:
    version, kbs = RELEASE_UPDATES[caption]
    report = run(
        windows=windows(f"{caption} ({version})"),
        hotfixes=hotfixes(*(kb for kb in kbs if kb != missing)),
    )
    items = [i for i in report.checklist if i.code == "WINDOWS_UPDATE_MISSING"]
    assert [i.what.split(":")[0] for i in items] == [f"Install {missing}"]
    assert items[0].severity is EXPECTED_SEVERITY.get(missing, RECOMMENDED)
    assert load_windows().updates[missing].what in items[0].why


@pytest.mark.parametrize(
    "caption",
    [
        *RELEASE_UPDATES,
        "Windows Server 2016",
        "Windows Server 2019",
        "Windows Server 2022",
        "Windows Server 2025",
    ],
)
def test_with_every_update_installed_nothing_is_missing(caption: str) -> None:
    _, kbs = RELEASE_UPDATES.get(caption, ("", ()))
    report = run(
        windows=windows(caption),
        hotfixes=hotfixes(*kbs),
    )
    assert "WINDOWS_UPDATE_MISSING" not in codes(report)
    assert report.exit_code == 0


def test_dotnet35_update_is_required_for_exchange_2010() -> None:
    report = run(
        windows=windows("Windows Server 2008 R2 (6.1.7601)"),
        hotfixes=hotfixes("KB3140245"),
        exchange_build=parse_exchange_build("14.3.513.0"),
    )
    item = next(i for i in report.checklist if "KB3154518" in i.what)
    assert item.severity is REQUIRED
    assert "supersede" in item.why


def test_without_a_hotfix_list_the_updates_are_listed_to_check() -> None:
    report = run(windows=windows("Windows Server 2012 R2"))
    assert codes(report) == {"WINDOWS_UPDATES_NOT_CHECKED": INFO}
    assert report.exit_code == 0


def test_windows_2008_before_sp2_cannot_do_tls12() -> None:
    report = run(windows=windows("Windows Server 2008 6.0.6001"))
    item = report.checklist[0]
    assert (item.code, item.severity) == ("WINDOWS_TLS12_UNSUPPORTED", REQUIRED)
    assert "KB4019276" in item.how[0]
    assert report.exit_code == 2


def test_systeminfo_gives_release_and_hotfixes() -> None:
    report = run(systeminfo=parse_systeminfo(samples.SYSTEMINFO_2012R2, "si.txt"))
    assert report.windows is not None
    assert report.windows.release == "windows-server-2012-r2"
    assert "KB3161949" in report.windows.installed_updates
    assert [i.what.split(":")[0] for i in report.checklist] == ["Install KB3154520"]


def test_contradicting_windows_inputs_are_refused() -> None:
    with pytest.raises(InputError, match="which Windows"):
        run(
            systeminfo=parse_systeminfo(samples.SYSTEMINFO_2012R2, "si.txt"),
            windows=windows("Windows Server 2016"),
        )


def test_an_unknown_windows_is_said_not_guessed() -> None:
    report = run(windows=windows("10.0.99999"))
    assert codes(report) == {"WINDOWS_NOT_RECOGNISED": INFO}
    assert report.windows is not None
    assert report.windows.release is None


# --- Exchange -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "tls12_required"),
    [
        ("14.3.361.1", True), ("14.3.382.0", False), ("14.3.224.2", True),
        ("15.0.1347.2", True), ("15.0.1365.1", False), ("15.0.1044.25", True),
        ("15.1.1261.35", True), ("15.1.1415.2", False),
        ("15.2.221.12", False), ("15.2.2562.37", False),
    ],
)  # fmt: skip
def test_exchange_builds_below_and_at_the_tls12_threshold(build: str, tls12_required: bool) -> None:
    report = run(exchange_build=parse_exchange_build(build))
    assert ("EXCHANGE_BUILD_TOO_OLD_FOR_TLS12" in codes(report)) is tls12_required
    assert (report.exit_code == 2) is tls12_required


def test_exchange_2010_before_ru9_also_says_smtp_was_hard_coded() -> None:
    report = run(exchange_build=parse_exchange_build("14.3.224.2"))
    item = report.checklist[0]
    assert "SP3 RU19" in item.what
    assert "hard-coded" in item.why
    assert report.exchange is not None
    assert report.exchange.smtp_limited_to_tls10 is True


def test_current_exchange_se_has_nothing_to_do() -> None:
    report = run(exchange_build=parse_exchange_build("15.2.2562.53"))
    assert report.checklist == ()
    assert report.exit_code == 0


def test_an_old_update_and_end_of_support_are_recommended() -> None:
    report = run(exchange_build=parse_exchange_build("15.1.2507.6"))
    assert codes(report) == {
        "EXCHANGE_UPDATE_AVAILABLE": RECOMMENDED,
        "EXCHANGE_OUT_OF_SUPPORT": RECOMMENDED,
    }
    assert "Sep26SUv2" in report.checklist[0].what


@pytest.mark.parametrize(
    ("build", "code"),
    [
        ("15.2.2562.99", "EXCHANGE_BUILD_NEWER_THAN_DATA"),
        ("16.0.1.0", "EXCHANGE_BUILD_NOT_IN_DATA"),
    ],
)
def test_builds_outside_the_data_are_information_only(build: str, code: str) -> None:
    report = run(exchange_build=parse_exchange_build(build))
    assert codes(report) == {code: INFO}


# --- SCHANNEL --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "configuration"),
    [
        ({"enabled": 1, "disabled_by_default": 0}, TlsConfiguration.ENABLED),
        ({"enabled": 0, "disabled_by_default": 1}, TlsConfiguration.DISABLED),
        ({"enabled": 1, "disabled_by_default": 1}, TlsConfiguration.HALF_DISABLED),
        ({"enabled": 0, "disabled_by_default": 0}, TlsConfiguration.HALF_DISABLED),
        ({"enabled": 1, "disabled_by_default": 0, "client": (0, 1)}, TlsConfiguration.MISMATCH),
        ({"enabled": 1, "disabled_by_default": None}, TlsConfiguration.VALUE_MISSING),
        ({"enabled": 2, "disabled_by_default": 0}, TlsConfiguration.INVALID_VALUE),
    ],
)
def test_tls12_classification_like_healthchecker(
    values: dict[str, object], configuration: TlsConfiguration
) -> None:
    body = "\n\n".join([f"[{samples.PROTOCOLS}]", samples.protocol_keys("1.2", **values)])  # type: ignore[arg-type]
    report = run(windows=windows("Windows Server 2016"), registry=registry(body))
    state = next(s for s in report.tls_versions if s.version is TlsVersion.TLS1_2)
    assert state.configuration is configuration
    expected = configuration not in (TlsConfiguration.ENABLED, TlsConfiguration.VALUE_MISSING)
    assert ("SCHANNEL_TLS12_NOT_ENABLED" in codes(report)) is expected


@pytest.mark.parametrize(("caption", "effect", "code", "severity"), [
    ("Windows Server 2008 R2 (6.1.7601)", Effect.OFF, "SCHANNEL_TLS12_NOT_ENABLED", REQUIRED),
    ("Windows Server 2008 SP2", Effect.OFF, "SCHANNEL_TLS12_NOT_ENABLED", REQUIRED),
    ("Windows Server 2012 R2", Effect.ON, "SCHANNEL_VALUES_MISSING", RECOMMENDED),
])  # fmt: skip
def test_missing_tls12_values_count_the_windows_default(
    caption: str, effect: Effect, code: str, severity: AdviceSeverity
) -> None:
    report = run(
        windows=windows(caption),
        registry=registry(samples.schannel_export(tls10=(1, 0), tls11=(1, 0))),
    )
    state = next(s for s in report.tls_versions if s.version is TlsVersion.TLS1_2)
    assert (state.configuration, state.effect) == (TlsConfiguration.VALUE_MISSING, effect)
    assert codes(report)[code] is severity


def test_tls13_enabled_on_2016_must_be_turned_off() -> None:
    report = run(
        windows=windows("Windows Server 2016"),
        registry=registry(samples.schannel_export(tls12=(1, 0), tls13=(1, 0))),
    )
    assert codes(report)["SCHANNEL_TLS13_UNSUPPORTED"] is REQUIRED


@pytest.mark.parametrize(("build", "expected"), [("15.2.1544.4", True), ("15.2.1748.10", False)])
def test_tls13_on_2022_depends_on_the_exchange_build(build: str, expected: bool) -> None:
    report = run(
        windows=windows("Windows Server 2022"),
        exchange_build=parse_exchange_build(build),
        registry=registry(samples.schannel_export(tls12=(1, 0), tls13=(1, 0))),
    )
    assert ("SCHANNEL_TLS13_UNSUPPORTED" in codes(report)) is expected


def test_legacy_tls_enabled_is_information_with_the_logs_advice() -> None:
    report = run(
        windows=windows("Windows Server 2019"),
        registry=registry(
            samples.schannel_export(tls10=(1, 0), tls11=(1, 0), tls12=(1, 0)),
            samples.dotnet_export(),
        ),
    )
    assert codes(report) == {"SCHANNEL_LEGACY_TLS_ENABLED": INFO}
    assert "mailtls logs" in report.checklist[0].how[0]


def test_legacy_tls_disabled_on_a_build_that_cannot_run_without_it() -> None:
    report = run(
        exchange_build=parse_exchange_build("15.0.1365.1"),
        windows=windows("Windows Server 2012 R2"),
        registry=registry(ALL_GOOD_SCHANNEL, samples.dotnet_export()),
    )
    assert codes(report)["EXCHANGE_CANNOT_DISABLE_TLS10_TLS11"] is REQUIRED


def test_a_clean_tls12_only_host_has_nothing_to_do() -> None:
    report = run(
        windows=windows("Windows Server 2019"),
        exchange_build=parse_exchange_build("15.2.2562.53"),
        registry=registry(ALL_GOOD_SCHANNEL, samples.dotnet_export()),
    )
    assert report.checklist == ()
    assert report.exit_code == 0
    assert report.dotnet is not None
    assert report.dotnet.consistent


# --- .NET and WinHTTP ----------------------------------------------------------------------------


def test_dotnet_values_missing_in_one_view() -> None:
    report = run(
        registry=registry(samples.schannel_export(tls12=(1, 0)), samples.dotnet_export(v4_wow=None))
    )
    assert codes(report)["DOTNET_VALUES_MISSING"] is RECOMMENDED
    assert codes(report)["DOTNET_INCONSISTENT"] is RECOMMENDED
    assert any(
        "Wow6432Node" in step
        for step in next(i for i in report.checklist if i.code == "DOTNET_VALUES_MISSING").how
    )


def test_dotnet_not_1_with_legacy_tls_off_is_required() -> None:
    report = run(
        registry=registry(ALL_GOOD_SCHANNEL, samples.dotnet_export(v4=0, v4_wow=0, v2=0, v2_wow=0))
    )
    assert codes(report)["DOTNET_NOT_USING_SYSTEM_TLS"] is REQUIRED


def test_exchange_2010_needs_the_v2_runtime_values() -> None:
    body = samples.dotnet_export(v2=None, v2_wow=None)
    report = run(
        exchange_build=parse_exchange_build("14.3.513.0"),
        registry=registry(samples.schannel_export(tls12=(1, 0)), body),
    )
    assert codes(report)["DOTNET_NOT_USING_SYSTEM_TLS"] is REQUIRED


def test_winhttp_on_2012_without_default_secure_protocols() -> None:
    winhttp = f'[{samples.WINHTTP}]\n"DefaultSecureProtocols"=dword:000000a0'
    report = run(
        windows=windows("Windows Server 2012"),
        registry=registry(samples.schannel_export(tls12=(1, 0)), winhttp),
    )
    assert codes(report)["WINHTTP_DEFAULT_PROTOCOLS"] is RECOMMENDED


def test_registry_without_the_keys_asks_for_them() -> None:
    report = run(registry=registry('[HKEY_LOCAL_MACHINE\\SOFTWARE\\Other]\n"A"=dword:00000001'))
    assert set(codes(report)) == {"SCHANNEL_NOT_EXPORTED", "DOTNET_NOT_EXPORTED"}
    assert report.exit_code == 0


# --- Postfix -----------------------------------------------------------------------------------


def postfix(text: str, version: str | None = None, openssl: str | None = None) -> AdviseReport:
    return run(
        postfix_config=parse_postfix_config(text, "main.cf") if text else None,
        postfix_version=parse_mail_version(version) if version else None,
        openssl_version=parse_openssl_version(openssl) if openssl else None,
    )


GOOD = "smtpd_tls_security_level = may\nsmtp_tls_security_level = may\nsmtpd_tls_loglevel = 1\nsmtp_tls_loglevel = 1\n"


@pytest.mark.parametrize(
    ("setting", "severity"),
    [
        ("smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1.2, !TLSv1.3", REQUIRED),
        ("smtp_tls_protocols = >=TLSv1, <=TLSv1.1", REQUIRED),
        ("smtp_tls_protocols = !SSLv2, !SSLv3, !TLSv1.1", REQUIRED),  # the gap rule: TLS 1.0 only
        ("smtpd_tls_mandatory_protocols = <=TLSv1.1", RECOMMENDED),  # level may: mandatory unused
        ("smtp_tls_mandatory_protocols = !TLSv1.2", RECOMMENDED),
    ],
)
def test_tls12_excluded(setting: str, severity: AdviceSeverity) -> None:
    report = postfix(GOOD + setting + "\n", "3.7.11")
    item = next(i for i in report.checklist if i.code == "POSTFIX_TLS12_EXCLUDED")
    assert item.severity is severity
    assert item.evidence == ("main.cf:5",)


def test_mandatory_protocols_matter_with_encrypt() -> None:
    report = postfix(
        GOOD.replace("smtp_tls_security_level = may", "smtp_tls_security_level = encrypt")
        + "smtp_tls_mandatory_protocols = <=TLSv1.1\n",
        "3.7.11",
    )
    assert codes(report)["POSTFIX_TLS12_EXCLUDED"] is REQUIRED


@pytest.mark.parametrize(
    "setting",
    ["smtpd_tls_protocols = >=TLSv1.2", "smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1"],
)
def test_both_syntaxes_for_tls12_only_are_fine(setting: str) -> None:
    report = postfix(GOOD + setting + "\n", "3.7.11")
    assert report.postfix is not None
    assert report.postfix.protocols["smtpd_tls_protocols"] == (TlsVersion.TLS1_2, TlsVersion.TLS1_3)
    assert "POSTFIX_TLS12_EXCLUDED" not in codes(report)


def test_bounds_syntax_on_postfix_before_3_6() -> None:
    report = postfix(GOOD + "smtpd_tls_protocols = >=TLSv1.2\n", "3.4.14")
    assert codes(report)["POSTFIX_BOUNDS_SYNTAX_UNSUPPORTED"] is REQUIRED


@pytest.mark.parametrize(("text", "code"), [
    ("smtpd_tls_security_level = none\nsmtp_tls_security_level = may\n", "POSTFIX_SERVER_TLS_OFF"),
    ("smtpd_tls_security_level = may\nsmtp_tls_security_level = none\n", "POSTFIX_CLIENT_TLS_OFF"),
    ("myhostname = mx.example.org\n", "POSTFIX_SERVER_TLS_OFF"),
])  # fmt: skip
def test_security_level_none(text: str, code: str) -> None:
    assert codes(postfix(text, "3.7.11"))[code] is REQUIRED


def test_obsolete_use_tls_counts_as_may() -> None:
    report = postfix("smtpd_use_tls = yes\nsmtp_use_tls = yes\n", "2.11.3")
    assert report.postfix is not None
    assert (report.postfix.server_security_level, report.postfix.client_security_level) == (
        "may",
        "may",
    )


def test_client_level_unset_on_a_new_postfix_is_recommended_to_set() -> None:
    assert (
        codes(postfix("smtpd_tls_security_level = may\n", "3.11.1"))["POSTFIX_CLIENT_TLS_OFF"]
        is RECOMMENDED
    )


@pytest.mark.parametrize(("version", "openssl", "code", "severity"), [
    ("2.5.6", None, "POSTFIX_TOO_OLD", RECOMMENDED),
    (None, "OpenSSL 0.9.8k 25 Mar 2009", "POSTFIX_OPENSSL_TOO_OLD", REQUIRED),
    (None, "OpenSSL 1.0.0t 3 Dec 2015", "POSTFIX_OPENSSL_TOO_OLD", REQUIRED),
])  # fmt: skip
def test_very_old_versions(
    version: str | None, openssl: str | None, code: str, severity: AdviceSeverity
) -> None:
    report = postfix("", version, openssl)
    assert codes(report) == {code: severity}


def test_openssl_101_is_enough() -> None:
    assert postfix("", "3.7.11", "OpenSSL 1.0.1e-fips 11 Feb 2013").checklist == ()


def test_a_good_postfix_config_has_only_information() -> None:
    report = postfix(samples.POSTCONF_N, "3.7.11", "OpenSSL 3.0.15 3 Sep 2024")
    assert set(codes(report)) == {"POSTFIX_LEGACY_TLS_ALLOWED"}
    assert report.exit_code == 0


def test_checklist_is_ordered_by_severity() -> None:
    report = run(
        exchange_build=parse_exchange_build("15.1.1261.35"),
        systeminfo=parse_systeminfo(samples.SYSTEMINFO_2012R2, "si.txt"),
        registry=registry(samples.schannel_export(tls10=(1, 0), tls11=(1, 0), tls12=(0, 1))),
    )
    ranks = [item.severity.rank for item in report.checklist]
    assert ranks == sorted(ranks, reverse=True)
    assert report.checklist[0].code == "EXCHANGE_BUILD_TOO_OLD_FOR_TLS12"
