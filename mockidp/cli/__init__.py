"""The ``mockidp`` command: one module per subcommand, each a thin layer over the library.

Exit status: 0 success, 1 a check failed (or the reader closed the output pipe), 2 usage,
config or connection errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ..errors import MockIdPError
from . import ca, check_agent, check_api, defects, mint, run, serve

COMMANDS = [serve, check_api, mint, defects, run, check_agent, ca]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mockidp")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockidp", description="A strict mock OAuth 2.1 / OpenID Connect identity provider for tests."
    )
    parser.add_argument("--version", action="version", version=f"mockidp {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
        sys.stdout.flush()  # inside the try: a closed pipe shows up here, not at interpreter exit
    except MockIdPError as exc:
        print(f"mockidp: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`mockidp defects | head`): no traceback, and nothing more to write
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
