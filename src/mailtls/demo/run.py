"""`mailtls demo`: check the demo environment's domains exactly as `mailtls check` would."""

from __future__ import annotations

from mailtls.demo.environment import DemoEnvironment
from mailtls.models import CheckReport
from mailtls.net.nameservers import parse_nameserver
from mailtls.scanner import CheckOptions, check_targets
from mailtls.targets import parse_target

# Local servers answer at once; short limits keep a broken demo from hanging a newcomer.
DEMO_TIMEOUT_SECONDS = 10.0


async def run_demo() -> tuple[CheckReport, str]:
    """Start the demo servers, check every demo domain, stop them; the report and an intro."""
    async with DemoEnvironment.start() as env:
        options = CheckOptions(
            nameservers=(parse_nameserver(env.nameserver),),
            ca_file=env.ca_file,
            port=env.port,
            ehlo_name="demo-client.mailtls.test",
            timeout=DEMO_TIMEOUT_SECONDS,
            greeting_timeout=DEMO_TIMEOUT_SECONDS,
            deadline=6 * DEMO_TIMEOUT_SECONDS,
        )
        targets = [parse_target(domain, default_port=env.port) for domain in env.domains]
        report = await check_targets(targets, options)
        lines = [
            "mailtls demo: local mail servers on loopback, each with one TLS story, and a DNS",
            f"server for them at {env.nameserver}. Nothing leaves this machine. The same check",
            "of your own domain: mailtls check example.com",
            "",
            *(f"  {domain:<34} {env.description(domain)}" for domain in env.domains),
            "",
        ]
    return report, "\n".join(lines) + "\n"
