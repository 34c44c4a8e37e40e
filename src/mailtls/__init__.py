"""mailtls: can your mail servers exchange mail with providers that enforce modern TLS?"""

from __future__ import annotations

__version__ = "0.1.0"
