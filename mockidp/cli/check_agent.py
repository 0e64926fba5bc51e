"""``mockidp check-agent --flow F --run CMD``: does this agent follow the practices, trial by trial?"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from ..conformance.check_agent import PROFILES, check_agent
from ..conformance.junit import write_junit
from ..conformance.report import write_json
from ..errors import ScenarioError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check-agent",
        help="run an agent against misbehaving IdPs and APIs and report which practices it skips",
        description="Exit status: 0 every check passed (warnings and not-applicable checks do not "
        "fail the run), 1 a check failed, 2 usage or config error.",
    )
    p.add_argument(
        "--flow",
        choices=["client_credentials", "authorization_code", "device_code"],
        help="the flow the agent uses (required, except with --profile mcp: authorization_code)",
    )
    p.add_argument(
        "--profile",
        choices=PROFILES,
        default="oauth",
        help="oauth: the agent is told the IdP and its client; mcp: an MCP client, told only the "
        "MCP server's URL (MOCKIDP_MCP_URL), meets the MCP conformance suite's auth scenarios",
    )
    p.add_argument(
        "--run",
        dest="agent_command",
        required=True,
        metavar="CMD",
        help="shell command that runs the agent once",
    )
    p.add_argument("--config", metavar="FILE", help="YAML IdP config (default: one client per flow)")
    p.add_argument("--report-json", metavar="FILE", help="write the JSON report here")
    p.add_argument("--junit-xml", metavar="FILE", help="write a JUnit XML report here")
    p.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="seconds per agent run (default 30)"
    )
    p.add_argument("--trial", action="append", metavar="NAME", help="run only this trial (repeatable)")
    p.add_argument("--client-id", metavar="ID", help="the config's client the agent uses")
    p.add_argument(
        "--auth",
        choices=["client_secret", "private_key_jwt"],
        default="client_secret",
        help="how the agent authenticates: its secret (MOCKIDP_CLIENT_SECRET), or private_key_jwt with a "
        "key pair made for the run (MOCKIDP_CLIENT_KEY: private JWK JSON; MOCKIDP_CLIENT_KEY_FILE: PEM "
        "path); the latter adds the assertion-aud, assertion-jti-single-use and assertion-lifetime checks",
    )
    p.add_argument("--strict", action="store_true", help="'should' failures (token-reuse) fail the run too")
    p.add_argument(
        "--tls",
        action="store_true",
        help="serve the IdP and APIs over https; the agent gets MOCKIDP_CA_FILE and SSL_CERT_FILE",
    )
    p.add_argument(
        "--agent-log",
        metavar="FILE",
        help="write the agent's full output of every trial here (default: check-agent.log next to "
        "--report-json or --junit-xml, else in a new temporary directory)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    flow = args.flow or ("authorization_code" if args.profile == "mcp" else None)
    if flow is None:
        raise ScenarioError("check-agent needs --flow (or --profile mcp)")
    report = check_agent(
        args.agent_command,
        flow,
        profile=args.profile,
        config=args.config,
        timeout=args.timeout,
        trials=args.trial,
        client_id=args.client_id,
        strict=args.strict,
        auth=args.auth,
        tls=args.tls,
    )
    print(report.table())
    log = agent_log_path(args)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(report.log_text(), encoding="utf-8")
    print(f"the agent's full output: {log}")
    if args.report_json:
        write_json(report, args.report_json)
    if args.junit_xml:
        write_junit(report, args.junit_xml, "mockidp.check-agent")
    return 0 if report.passed else 1


def agent_log_path(args: argparse.Namespace) -> Path:
    """``--agent-log``; else beside the first report asked for; else in a fresh temporary directory."""
    if args.agent_log:
        return Path(args.agent_log)
    for report in (args.report_json, args.junit_xml):
        if report:
            return Path(report).parent / "check-agent.log"
    return Path(tempfile.mkdtemp(prefix="mockidp-check-agent-")) / "check-agent.log"
