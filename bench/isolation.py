"""Each benchmark runs in a network namespace of its own (``unshare --net``): its loopback is
private, so no test suite running at the same time can add connections to the counts, and no
tool measured can reach any address but the benchmark's own servers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence

from bench.machine import REPOSITORY

INSIDE_NAMESPACE = "MAILTLS_BENCH_NAMESPACE"


def enter_private_network(module: str, argv: Sequence[str], *, needs: str) -> None:
    """Re-run ``python -m module argv`` in a new network namespace whose only interface is
    loopback; inside it, bring loopback up and return. ``needs`` says why root is required."""
    name = module.rsplit(".", 1)[-1]
    if os.environ.get(INSIDE_NAMESPACE) == "1":
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        return
    if os.geteuid() != 0:
        sys.exit(f"{name}: run as root ({needs})")
    unshare = shutil.which("unshare")
    if unshare is None:
        sys.exit(f"{name}: unshare (util-linux) not found; run bench/setup")
    environment = dict(os.environ, **{INSIDE_NAMESPACE: "1"})
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPOSITORY), environment.get("PYTHONPATH")])
    )
    command = [sys.executable, "-m", module, *argv]
    os.execve(unshare, [unshare, "--net", "--", *command], environment)
