"""``mockidp serve``: the standalone server, for manual testing and tests in other languages."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import signal
import socket
import sys
from typing import Any

from ..config import IdPConfig, load_config
from ..demo import demo_config, describe
from ..errors import ConfigError, MockIdPError
from ..server import MockIdP
from ..tls import ca_path
from ..web import signers

DEFAULT_PORT = 9400
#: more signer processes than this would only hold keys and memory (the one loop feeds a few)
MAX_SIGNERS = 64


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the mock IdP until interrupted")
    p.add_argument("--config", metavar="FILE", help="YAML config (default: the built-in demo)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0 picks a free one)")
    p.add_argument(
        "--issuer",
        metavar="URL",
        help="issuer URL (default http://HOST:PORT; for 0.0.0.0 or :: the machine's host name)",
    )
    p.add_argument("--login", choices=["auto", "form"], help="login mode (default: form)")
    p.add_argument("--allow-remote", action="store_true", help="allow listening on a non-loopback address")
    p.add_argument(
        "--keys",
        metavar="FILE",
        help="sign with the key kept in FILE (created 0600 if missing), so tokens survive restarts",
    )
    p.add_argument(
        "--tls",
        action="store_true",
        help="serve https with a certificate from mockidp's local CA (trust `mockidp ca-path`)",
    )
    p.add_argument(
        "--signers",
        type=int,
        metavar="N",
        help="processes that sign the token endpoint's tokens (default: one per CPU beyond the "
        "first, 1 to 4; 0 signs on threads inside the server)",
    )
    p.set_defaults(run=run)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """``0.0.0.0``, ``::`` and friends: listen everywhere, and no address a client can use."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def _names_itself_by_host_name(args: argparse.Namespace) -> bool:
    """A wildcard bind without an absolute ``--issuer``: the issuer will carry the host name."""
    return is_wildcard(args.host) and (not args.issuer or args.issuer.startswith("/"))


def _host_name_usable(host: str) -> bool:
    """Say which name the issuer will carry, or why it cannot (then ``--issuer`` is needed)."""
    name = socket.gethostname()
    try:
        resolves = bool(name) and bool(socket.getaddrinfo(name, None))
    except OSError:
        resolves = False
    if not resolves:
        print(
            f"mockidp: error: listening on {host} (every interface), the issuer needs a name clients "
            f"can reach, and this machine's host name {name!r} does not resolve; "
            "pass --issuer http://NAME:PORT",
            file=sys.stderr,
        )
        return False
    print(
        f"listening on every interface; the issuer uses this machine's host name {name!r} (or pass --issuer)"
    )
    return True


def resolve_config(args: argparse.Namespace) -> IdPConfig:
    """The config with command-line overrides; ``mockidp serve`` shows the login form by default."""
    if args.config:
        config = load_config(args.config)
        login_in_file = _file_sets_login(args.config)
    else:
        config = demo_config()
        login_in_file = False
    overrides: dict[str, Any] = {}
    if args.issuer:
        overrides["issuer"] = args.issuer
    if args.login:
        overrides["login"] = args.login
    elif not login_in_file:
        overrides["login"] = "form"
    try:
        return config.merged(overrides) if overrides else config
    except ConfigError as exc:
        raise ConfigError(exc.message, file="<command line>", key_path=exc.key_path) from None


def _file_sets_login(path: str) -> bool:
    import yaml

    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return isinstance(data, dict) and "login" in data


def run(args: argparse.Namespace) -> int:
    if not is_loopback(args.host) and not args.allow_remote:
        print(
            f"mockidp: error: refusing to listen on {args.host}: mockidp is a test tool and stays on "
            "loopback; pass --allow-remote to listen elsewhere",
            file=sys.stderr,
        )
        return 2
    if not 0 <= args.port <= 65535:
        print(f"mockidp: error: --port {args.port} is not a port number", file=sys.stderr)
        return 2
    if _names_itself_by_host_name(args) and not _host_name_usable(args.host):
        return 2
    if args.signers is not None and not 0 <= args.signers <= MAX_SIGNERS:
        print(
            f"mockidp: error: --signers {args.signers} is not a number of processes from 0 to {MAX_SIGNERS}",
            file=sys.stderr,
        )
        return 2
    config = resolve_config(args)
    if not args.config:
        print("using the built-in demo configuration:")
        print(describe(config))
    count = signers.default_count() if args.signers is None else args.signers
    return asyncio.run(_serve(config, args.host, args.port, args.keys, tls=args.tls, signer_count=count))


async def _serve(
    config: IdPConfig,
    host: str,
    port: int,
    key_file: str | None = None,
    *,
    tls: bool = False,
    signer_count: int = 0,
) -> int:
    idp = MockIdP(config, host=host, port=port, key_file=key_file, tls=tls)
    try:
        await idp.astart()
    except OSError as exc:
        raise MockIdPError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    if signer_count:
        try:
            await signers.start(signer_count)
        except BaseException:
            await idp.astop()
            raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"issuer: {idp.issuer}", flush=True)
    print(f"metadata: {idp.metadata_url}", flush=True)
    print(f"control API: {idp.url('_mockidp/openapi.json')} (loopback only)", flush=True)
    if tls:
        print(f"CA certificate: {ca_path()} (trust it: verify=<that path>)", flush=True)
    try:
        await stop.wait()
    finally:
        await idp.astop()
        await signers.stop()
    print("mockidp: stopped", flush=True)
    return 0
