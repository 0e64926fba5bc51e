"""``mockidp ca-path`` and ``mockidp ca issue HOST``: the local CA behind ``--tls``.

``ca-path`` prints the CA certificate's path, for ``SSL_CERT_FILE``, ``curl --cacert`` or a
client's trust setting; ``ca issue`` prints the paths of a server certificate and key for a
test's own https servers (see :mod:`mockidp.tls`).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..tls import ca_path, issue_cert


def register(sub: Any) -> None:
    path = sub.add_parser("ca-path", help="print the path of mockidp's local CA certificate (PEM)")
    path.set_defaults(run=run_path)
    ca = sub.add_parser("ca", help="mockidp's local certificate authority (used by --tls)")
    commands = ca.add_subparsers(dest="ca_command", required=True, metavar="ACTION")
    commands.add_parser("path", help="print the CA certificate's path").set_defaults(run=run_path)
    issue = commands.add_parser("issue", help="issue a server certificate for HOST (and more hosts)")
    issue.add_argument("hosts", nargs="+", metavar="HOST", help="IP address or DNS name")
    issue.set_defaults(run=run_issue)


def run_path(args: argparse.Namespace) -> int:
    print(ca_path())
    return 0


def run_issue(args: argparse.Namespace) -> int:
    issued = issue_cert(*args.hosts)
    print(f"cert: {issued.cert_path}")
    print(f"key: {issued.key_path}")
    print(f"ca: {ca_path()}")
    return 0
