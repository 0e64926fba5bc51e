"""``mockidp mint``: print an access token (valid, or broken by named defects) without serving.

The IdP is built from the config but never listens; its issuer is what ``mockidp serve``
would use with the same options, so the token validates against that server's JWKS only if
the keys match (they do not across processes: keys are per run). Use it for fixtures and
for feeding a resource server deliberately broken tokens from a shell.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..config import load_config
from ..demo import demo_config
from ..server import MockIdP
from ..web.listen import http_origin
from .serve import DEFAULT_PORT


def register(sub: Any) -> None:
    p = sub.add_parser("mint", help="print an access token, optionally with defects")
    p.add_argument("--config", metavar="FILE", help="YAML config (default: the built-in demo)")
    p.add_argument(
        "--issuer", metavar="URL", help=f"issuer URL (default http://127.0.0.1:{DEFAULT_PORT}, as serve)"
    )
    p.add_argument("--client", metavar="ID", help="client the token is for (default: the first client)")
    p.add_argument("--subject", metavar="S", help="sub claim (default: the client id)")
    p.add_argument(
        "--audience", metavar="A", action="append", help="API the token is for; repeat for several"
    )
    p.add_argument("--scope", metavar="S", help="space-separated scopes the API requires")
    p.add_argument(
        "--defect",
        metavar="NAME",
        action="append",
        default=[],
        help="break the token this way (see `mockidp defects`); repeat to combine",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config) if args.config else demo_config()
    if args.issuer:
        config = config.merged({"issuer": args.issuer})
    idp = MockIdP(config)
    idp.state.bind(http_origin("127.0.0.1", DEFAULT_PORT))
    token = idp.issue_token(
        client_id=args.client,
        subject=args.subject,
        audience=args.audience,
        scope=args.scope,
        defects=args.defect,
    )
    print(token)
    return 0
