"""Shared by the parser tests: sample lines with their origins, and a compact view of a session."""

from __future__ import annotations

from pathlib import Path

from mailtls.models import SessionObservation

SAMPLES = Path(__file__).parent / "samples"

# (direction, role, peer_ip, peer_host, TLS version or None, version_ambiguous)
Seen = tuple[str, str, str | None, str | None, str | None, bool]


def sample_lines(name: str) -> list[tuple[str, str]]:
    """(origin, line) for each line of a sample; "# " lines say where the sample comes from."""
    text = (SAMPLES / name).read_text(encoding="utf-8")
    return [
        (f"{name}:{number}", line)
        for number, line in enumerate(text.splitlines(), start=1)
        if not line.startswith("# ")
    ]


def seen(observation: SessionObservation) -> Seen:
    version = observation.tls_version.value if observation.tls_version else None
    return (
        observation.direction.value,
        observation.role.value,
        observation.peer_ip,
        observation.peer_host,
        version,
        observation.version_ambiguous,
    )
