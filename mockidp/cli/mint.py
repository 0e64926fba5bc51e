"""``mockidp mint``: print an access token (valid, or broken by named defects) without serving.

The IdP is built from the config but never listens; its issuer is what ``mockidp serve``
would use with the same options. Its token verifies against a running server's JWKS when both
use the same ``--keys FILE``, or when ``--server URL`` asks that server's control API to sign.
Use it for fixtures and for feeding a resource server deliberately broken tokens from a shell.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ..config import load_config
from ..demo import demo_config
from ..errors import MockIdPError
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
    p.add_argument("--keys", metavar="FILE", help="sign with the key in FILE, as `serve --keys FILE` does")
    p.add_argument(
        "--server",
        metavar="URL",
        help="issuer URL of a running `mockidp serve` (loopback): its control API mints the token",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.server:
        print(_mint_on_server(args))
        return 0
    config = load_config(args.config) if args.config else demo_config()
    if args.issuer:
        config = config.merged({"issuer": args.issuer})
    idp = MockIdP(config, key_file=args.keys)
    issuer = urllib.parse.urlsplit(args.issuer or "")
    # an absolute --issuer is where the server listens (serve --port 0 printed it): keep its port
    base = f"{issuer.scheme}://{issuer.netloc}" if issuer.netloc else http_origin("127.0.0.1", DEFAULT_PORT)
    idp.state.bind(base)
    token = idp.issue_token(
        client_id=args.client,
        subject=args.subject,
        audience=args.audience,
        scope=args.scope,
        defects=args.defect,
    )
    print(token)
    return 0


def _mint_on_server(args: argparse.Namespace) -> str:
    """POST the same request to the running server's ``/_mockidp/tokens``."""
    if args.config or args.keys or args.issuer:
        raise MockIdPError(
            "--server mints with the running server's config and keys; drop --config/--keys/--issuer"
        )
    body: dict[str, Any] = {"defects": args.defect}
    for key, value in (
        ("client_id", args.client),
        ("subject", args.subject),
        ("audience", args.audience),
        ("scope", args.scope),
    ):
        if value is not None:
            body[key] = value
    url = f"{args.server.rstrip('/')}/_mockidp/tokens"
    request = urllib.request.Request(  # noqa: S310 - the user's own server URL, checked below
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise MockIdPError(f"--server {args.server}: not an http(s) URL")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            token: str = json.load(answer)["access_token"]
            return token
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        raise MockIdPError(f"{url} answered {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise MockIdPError(f"cannot reach {url}: {exc}") from None
