"""``mailtls receive``: an SMTP server that records which TLS a *sending* server negotiates.

Exchange Online refuses TLS 1.0/1.1 from servers that deliver to it; probing a server's port 25
shows only how it receives. Here the admin's server sends to us, and each session becomes a
:class:`~mailtls.receiver.models.ReceivedSession`: who connected, what it said, which TLS it
negotiated, and whether Exchange Online would have accepted that, with the fix.

Pure parts: ``models``, ``headers``, ``sanitise``, ``verdict``, ``senders``, ``limits``,
``contexts``, ``render``. I/O at the edge: ``protocol`` (aiosmtpd), ``server`` (listeners and
the record writer) and ``command`` (the CLI handlers). ``arguments`` builds the parser and imports
nothing heavy.
"""
