"""A client-credentials agent that uses DPoP (RFC 9449), for check-agent's ``dpop-required`` trial.

    python dpop_agent.py [--bearer]

It reads the MOCKIDP_* environment like any agent, gets a DPoP-bound token per mock API (a proof
at the token endpoint) and calls each API with ``Authorization: DPoP`` and a fresh proof with
``ath``, retrying once with the API's ``DPoP-Nonce``. ``--bearer`` leaves DPoP out (the broken
variant). Written with requests, PyJWT and cryptography, independent of mockidp.
"""

from __future__ import annotations

import argparse
import os
import sys

import requests
from dpop_client import DPoPKey


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bearer", action="store_true")
    args = parser.parse_args()
    issuer = os.environ["MOCKIDP_ISSUER"]
    auth = (os.environ["MOCKIDP_CLIENT_ID"], os.environ["MOCKIDP_CLIENT_SECRET"])
    apis = {k: v for k, v in os.environ.items() if k.startswith("MOCKIDP_API_") and k.endswith("_URL")}
    http = requests.Session()
    http.trust_env = False
    metadata = http.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=10).json()
    token_endpoint = metadata["token_endpoint"]
    key = DPoPKey()
    for name, url in sorted(apis.items()):
        scope = name[len("MOCKIDP_API_") : -len("_URL")].lower() + ":read"
        headers = {} if args.bearer else {"DPoP": key.proof("POST", token_endpoint)}
        data = {"grant_type": "client_credentials", "resource": url, "scope": scope}
        r = http.post(token_endpoint, data=data, auth=auth, headers=headers, timeout=10)
        r.raise_for_status()
        token = r.json()["access_token"]
        nonce = None
        for _ in range(2):
            if args.bearer:
                call = {"Authorization": f"Bearer {token}"}
            else:
                call = {
                    "Authorization": f"DPoP {token}",
                    "DPoP": key.proof("GET", url, access_token=token, nonce=nonce),
                }
            answer = http.get(url, headers=call, timeout=10)
            if answer.status_code == 401 and "DPoP-Nonce" in answer.headers and nonce is None:
                nonce = answer.headers["DPoP-Nonce"]
                continue
            break
        if answer.status_code != 200:
            print(f"{name}: {answer.status_code} {answer.headers.get('WWW-Authenticate')}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
