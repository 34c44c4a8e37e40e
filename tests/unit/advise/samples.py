"""Inputs written the way Windows and Postfix tools write them."""

from __future__ import annotations

SCHANNEL = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL"
PROTOCOLS = SCHANNEL + r"\Protocols"
NET4 = r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\.NETFramework\v4.0.30319"
NET4_WOW = r"HKEY_LOCAL_MACHINE\SOFTWARE\Wow6432Node\Microsoft\.NETFramework\v4.0.30319"
NET2 = r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\.NETFramework\v2.0.50727"
NET2_WOW = r"HKEY_LOCAL_MACHINE\SOFTWARE\Wow6432Node\Microsoft\.NETFramework\v2.0.50727"
WINHTTP = r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\WinHttp"


def regedit_bytes(body: str) -> bytes:
    """A .reg file as regedit and `reg export` write it: UTF-16LE, BOM, CRLF, blank line after."""
    text = "Windows Registry Editor Version 5.00\n\n" + body.strip("\n") + "\n\n"
    return b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le")


def regedit4_bytes(body: str) -> bytes:
    text = "REGEDIT4\n\n" + body.strip("\n") + "\n\n"
    return text.replace("\n", "\r\n").encode("cp1252")


def protocol_keys(
    version: str,
    enabled: int | None,
    disabled_by_default: int | None,
    *,
    client: tuple[int | None, int | None] | None = None,
) -> str:
    """The SCHANNEL keys of one TLS version (values left out where None)."""
    blocks = [f"[{PROTOCOLS}\\TLS {version}]"]
    for side, (e, d) in (
        ("Client", client or (enabled, disabled_by_default)),
        ("Server", (enabled, disabled_by_default)),
    ):
        lines = [f"[{PROTOCOLS}\\TLS {version}\\{side}]"]
        if d is not None:
            lines.append(f'"DisabledByDefault"=dword:{d:08x}')
        if e is not None:
            lines.append(f'"Enabled"=dword:{e:08x}')
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def schannel_export(**versions: tuple[int | None, int | None]) -> str:
    """A `reg export` of the SCHANNEL key: tls10=(Enabled, DisabledByDefault), ..."""
    names = {"tls10": "1.0", "tls11": "1.1", "tls12": "1.2", "tls13": "1.3"}
    parts = [f"[{SCHANNEL}]", '"EventLogging"=dword:00000001', f"[{PROTOCOLS}]"]
    parts += [protocol_keys(names[key], *values) for key, values in versions.items()]
    return "\n\n".join(parts)


def dotnet_export(
    v4: int | None = 1, v4_wow: int | None = 1, v2: int | None = 1, v2_wow: int | None = 1
) -> str:
    """`reg export` of both .NETFramework views, SystemDefaultTlsVersions and SchUseStrongCrypto."""
    blocks = []
    for key, value in ((NET4, v4), (NET4_WOW, v4_wow), (NET2, v2), (NET2_WOW, v2_wow)):
        lines = [f"[{key}]", '"InstallPath"="C:\\\\Windows\\\\Microsoft.NET\\\\Framework64\\\\"']
        if value is not None:
            lines += [
                f'"SchUseStrongCrypto"=dword:{value:08x}',
                f'"SystemDefaultTlsVersions"=dword:{value:08x}',
            ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


SYSTEMINFO_2012R2 = """\

Host Name:                 EX01
OS Name:                   Microsoft Windows Server 2012 R2 Standard
OS Version:                6.3.9600 N/A Build 9600
OS Manufacturer:           Microsoft Corporation
OS Configuration:          Member Server
OS Build Type:             Multiprocessor Free
System Boot Time:          3/1/2025, 4:12:09 AM
System Type:               x64-based PC
Processor(s):              1 Processor(s) Installed.
                           [01]: Intel64 Family 6 Model 85 Stepping 7 GenuineIntel ~2594 Mhz
BIOS Version:              Microsoft Corporation Hyper-V UEFI Release v4.1, 5/13/2024
Windows Directory:         C:\\Windows
Total Physical Memory:     16,383 MB
Hotfix(s):                 4 Hotfix(s) Installed.
                           [01]: KB2919355
                           [02]: KB2973337
                           [03]: KB3161949
                           [04]: KB5041828
Network Card(s):           1 NIC(s) Installed.
                           [01]: Microsoft Hyper-V Network Adapter
                                 Connection Name: Ethernet
                                 DHCP Enabled:    No
                                 IP address(es)
                                 [01]: 192.0.2.10
Hyper-V Requirements:      A hypervisor has been detected. Features required for Hyper-V will not be displayed.
"""

SYSTEMINFO_2008_SP2 = """\
Host Name:                 MAIL
OS Name:                   Microsoft\u00ae Windows Server\u00ae 2008 Standard
OS Version:                6.0.6002 Service Pack 2 Build 6002
Hotfix(s):                 2 Hotfix(s) Installed.
                           [01]: KB955430
                           [02]: KB3154517
Network Card(s):           1 NIC(s) Installed.
"""

GET_HOTFIX_CSV = '''\
#TYPE System.Management.ManagementObject#root\\cimv2\\Win32_QuickFixEngineering
"PSComputerName","InstalledOn","__GENUS","__CLASS","__SUPERCLASS","__DYNASTY","__RELPATH","__PROPERTY_COUNT","__DERIVATION","__SERVER","__NAMESPACE","__PATH","Caption","CSName","Description","FixComments","HotFixID","InstallDate","InstalledBy","Name","ServicePackInEffect","Status"
"EX01","11/12/2024 12:00:00 AM","2","Win32_QuickFixEngineering","CIM_LogicalElement","CIM_ManagedSystemElement","Win32_QuickFixEngineering.HotFixID=""KB3140245"",ServicePackInEffect=""""","11","System.String[]","EX01","root\\cimv2","\\\\EX01\\root\\cimv2:Win32_QuickFixEngineering.HotFixID=""KB3140245"",ServicePackInEffect=""""","http://support.microsoft.com/?kbid=3140245","EX01","Update","","KB3140245","","NT AUTHORITY\\SYSTEM","","",""
"EX01","11/12/2024 12:00:00 AM","2","Win32_QuickFixEngineering","CIM_LogicalElement","CIM_ManagedSystemElement","Win32_QuickFixEngineering.HotFixID=""KB3154518"",ServicePackInEffect=""""","11","System.String[]","EX01","root\\cimv2","\\\\EX01\\root\\cimv2:Win32_QuickFixEngineering.HotFixID=""KB3154518"",ServicePackInEffect=""""","http://support.microsoft.com/?kbid=3154518","EX01","Update","","KB3154518","","NT AUTHORITY\\SYSTEM","","",""
'''

GET_HOTFIX_CSV_PS7 = """\
"Source","Description","HotFixID","InstalledBy","InstalledOn"
"EX01","Update","KB5034439","NT AUTHORITY\\SYSTEM","1/9/2025 12:00:00 AM"
"EX01","Security Update","KB5041578","NT AUTHORITY\\SYSTEM","8/13/2025 12:00:00 AM"
"""

WMIC_TABLE = """\
Caption                                     CSName  Description      FixComments  HotFixID   InstallDate  InstalledBy          InstalledOn  Name  ServicePackInEffect  Status
http://support.microsoft.com/?kbid=3140245  EX01    Update                        KB3140245               NT AUTHORITY\\SYSTEM  3/12/2024
http://support.microsoft.com/?kbid=3154518  EX01    Update                        KB3154518               NT AUTHORITY\\SYSTEM  3/12/2024
https://support.microsoft.com/help/5041578  EX01    Security Update               KB5041578               NT AUTHORITY\\SYSTEM  8/13/2025

"""

WMIC_LIST = """\


Caption=http://support.microsoft.com/?kbid=3140245
CSName=EX01
Description=Update
FixComments=
HotFixID=KB3140245
InstallDate=
InstalledBy=NT AUTHORITY\\SYSTEM
InstalledOn=3/12/2024
Name=
ServicePackInEffect=
Status=


Caption=http://support.microsoft.com/?kbid=4019276
CSName=EX01
Description=Update
FixComments=
HotFixID=KB4019276
InstallDate=
InstalledBy=NT AUTHORITY\\SYSTEM
InstalledOn=3/12/2024
Name=
ServicePackInEffect=
Status=

"""

POSTCONF_N = """\
alias_database = hash:/etc/aliases
compatibility_level = 3.6
inet_interfaces = all
myhostname = mx.example.org
smtp_tls_loglevel = 1
smtp_tls_security_level = may
smtpd_tls_chain_files = /etc/ssl/private/mx.pem
smtpd_tls_loglevel = 1
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_security_level = may
"""

MAIN_CF = """\
# See /usr/share/postfix/main.cf.dist for a commented, more complete version

smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no

# TLS parameters
smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem
smtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key
smtpd_tls_security_level=may
smtpd_tls_protocols = !SSLv2, !SSLv3,
    !TLSv1, !TLSv1.1
smtp_tls_CApath=/etc/ssl/certs
smtp_tls_security_level=may
smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache
"""
