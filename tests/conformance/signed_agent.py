"""A client-credentials agent that authenticates with ``private_key_jwt``, for check-agent ``--auth``.

    python signed_agent.py [--key jwk|pem] [--skip PRACTICE]

It is ``agent.py`` (requests + PyJWT, independent of mockidp) with its token requests signed by
the key check-agent provides: the private JWK in ``MOCKIDP_CLIENT_KEY`` or the PEM file named
by ``MOCKIDP_CLIENT_KEY_FILE``. ``--skip`` breaks one assertion practice.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import requests
from agent import Agent, AgentError

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SKIPS = (
    "jti",  # signs one assertion and sends it with every token request
    "lifetime",  # assertions that live an hour
    "aud",  # the audience is the API, not the IdP
)


class SignedAgent(Agent):
    def __init__(self, source: str, skip: str | None) -> None:
        super().__init__("client_credentials", None)
        self.assertion_skip = skip
        if source == "pem":
            self.key: Any = Path(os.environ["MOCKIDP_CLIENT_KEY_FILE"]).read_bytes()
            self.kid: str | None = None  # one key: the IdP needs no kid
        else:
            jwk = json.loads(os.environ["MOCKIDP_CLIENT_KEY"])
            self.key, self.kid = jwt.PyJWK(jwk).key, jwk["kid"]
        self.kept: str | None = None

    def assertion(self) -> str:
        if self.assertion_skip == "jti" and self.kept is not None:
            return self.kept
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": next(iter(self.apis.values())) if self.assertion_skip == "aud" else self.issuer,
            "iat": now,
            "exp": now + (3600 if self.assertion_skip == "lifetime" else 60),
            "jti": uuid.uuid4().hex,
        }
        headers = {"kid": self.kid} if self.kid else None
        self.kept = jwt.encode(claims, self.key, "ES256", headers=headers)
        return self.kept

    def token_request(self, data: dict[str, str]) -> dict[str, Any]:
        form = {**data, "client_assertion_type": ASSERTION_TYPE, "client_assertion": self.assertion()}
        for _ in range(4):
            r = self.http.post(self.metadata["token_endpoint"], data=form, timeout=5)
            if r.status_code in (429, 503):
                time.sleep(min(float(r.headers.get("Retry-After", "1")), 5.0))
                form["client_assertion"] = self.assertion()
                continue
            if r.status_code != 200:
                raise AgentError(f"token endpoint said {r.status_code}: {r.text[:200]}")
            return dict(r.json())
        raise AgentError("token endpoint kept refusing")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--key", choices=["jwk", "pem"], default="jwk")
    parser.add_argument("--skip", choices=SKIPS)
    args = parser.parse_args()
    try:
        SignedAgent(args.key, args.skip).run()
    except (AgentError, requests.RequestException, KeyError) as exc:
        print(f"agent stopped: {exc}", file=sys.stderr)
        return 1
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
