"""``mockidp check-api URL``: does this API reject every broken token in the catalog?"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..conformance.check_api import (
    ApiTarget,
    RunOptions,
    access_token_catalog,
    check_api,
    selected_catalog,
    with_delegation,
)
from ..conformance.junit import write_junit
from ..conformance.report import write_json
from ..errors import ScenarioError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check-api",
        help="send an API every catalog defect and report what got through",
        description="Exit status: 0 no must finding (with --strict: no finding at all), 1 a finding "
        "that fails the run, 2 usage or config error, an API that cannot be reached, or an "
        "inconclusive run (the API refused the valid token).",
    )
    p.add_argument("url", metavar="URL", help="the endpoint to call (e.g. http://127.0.0.1:8000/items)")
    p.add_argument("--audience", required=True, metavar="AUD", help="the audience the API expects")
    p.add_argument("--scope", required=True, metavar="SCOPE", help="space-separated scopes the call needs")
    p.add_argument("--method", default="GET", help="HTTP method of the call (default GET)")
    p.add_argument("--config", metavar="FILE", help="YAML IdP config (default: a minimal one)")
    p.add_argument("--port", type=int, default=0, help="port for the IdP (default 0: a free port)")
    p.add_argument("--start", metavar="CMD", help="shell command that starts the API (stopped at the end)")
    p.add_argument("--strict", action="store_true", help="'should' failures fail the run too")
    p.add_argument(
        "--tls",
        action="store_true",
        help="the IdP serves https from mockidp's local CA (see `mockidp ca-path`)",
    )
    p.add_argument(
        "--no-expiry-wait",
        "--skip-slow",
        dest="expiry_wait",
        action="store_false",
        help="skip expired-after-cache, the one case that waits (about 2.5 s)",
    )
    p.add_argument(
        "--allow-token-in",
        action="append",
        choices=("query", "body"),
        default=[],
        metavar="{query,body}",
        help="the API documents taking tokens from the query or a form body (repeatable)",
    )
    p.add_argument(
        "--api-log",
        metavar="FILE",
        help="where a --start'ed API's output goes (default: a temporary file); its last lines "
        "are shown only when it crashes or fails to start",
    )
    p.add_argument(
        "--jwks",
        action="store_true",
        help="also send the key-rollover sequences (jwks-new-kid, jwks-removed-key); an API whose "
        "JWKS client rate-limits refetches refuses the new kid within its cooldown",
    )
    p.add_argument(
        "--dpop",
        action="store_true",
        help="the API requires DPoP (RFC 9449): bind every token to a key, send it with a proof, "
        "and also send the DPoP request defects (a bound token as Bearer, a proof of another key...)",
    )
    p.add_argument(
        "--dpop-nonce",
        action="store_true",
        help="with --dpop: the API demands its own DPoP nonce, so a proof without it must be refused",
    )
    p.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="TAG",
        help="send only the catalog entries with this tag (`cve`: those that reproduce a CVE; repeatable)",
    )
    p.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="GROUP",
        help="send only the catalog entries of this group (e.g. audience, positive; repeatable)",
    )
    p.add_argument(
        "--delegation",
        metavar="POLICY",
        help="the API's delegation policy (RFC 8693 act): 'none' (it refuses delegated tokens) or "
        "'max-depth=N' (it accepts act chains of up to N actors, N from 1 to 3, and honours may_act); "
        "adds the delegation entries it can be judged on",
    )
    p.add_argument("--report-json", metavar="FILE", help="write the JSON report here")
    p.add_argument("--junit-xml", metavar="FILE", help="write a JUnit XML report here")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        print(f"mockidp: error: --port {args.port} is not a port number", file=sys.stderr)
        return 2
    target = ApiTarget(url=args.url, audience=args.audience, scope=args.scope, method=args.method.upper())
    options = RunOptions(
        expiry_wait=args.expiry_wait,
        allow_token_in=frozenset(args.allow_token_in),
        jwks=args.jwks,
        dpop=args.dpop or args.dpop_nonce,
        dpop_nonce=args.dpop_nonce,
    )
    catalog = None
    if args.tag or args.group:
        catalog = selected_catalog(tags=args.tag, groups=args.group)
        if not catalog:
            print("mockidp: error: no catalog entry has those tags and groups", file=sys.stderr)
            return 2
    if args.delegation:
        try:
            catalog = with_delegation(
                catalog if catalog is not None else access_token_catalog(), args.delegation
            )
        except ScenarioError as exc:
            print(f"mockidp: error: {exc}", file=sys.stderr)
            return 2
    report = check_api(
        target,
        catalog=catalog,
        config=args.config,
        port=args.port,
        start=args.start,
        strict=args.strict,
        options=options,
        api_log=args.api_log,
        tls=args.tls,
    )
    print(report.table())
    if args.report_json:
        write_json(report, args.report_json)
    if args.junit_xml:
        write_junit(report, args.junit_xml, "mockidp.check-api")
    return 0 if report.passed else 1
