"""``mailtls advise``: inventory of a Windows/Exchange host or a Postfix installation in, an
ordered checklist out (offline, from what built-in commands print).

Readers (pure): ``registry`` (reg export files), ``hotfixes`` (systeminfo, Get-HotFix CSV, wmic
qfe), ``postfix`` (postconf -n / main.cf, versions). Analysis: ``analyse`` composing
``windows_checks``, ``exchange_checks`` and ``postfix_checks``. Output: ``render`` (text, JSON),
``schema`` (JSON Schema), ``regfile`` (.reg files for regedit). ``command`` is the subcommand.
"""
