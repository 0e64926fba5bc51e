"""A small agent for the check-agent corpus: correct, or skipping exactly one practice.

    python agent.py --flow client_credentials|authorization_code [--skip PRACTICE]

It reads the MOCKIDP_* environment like any agent under check-agent, gets a token per mock
API and calls each API once (GET). Written with requests and PyJWT, independent of mockidp.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import secrets
import sys
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import requests

SKIPS = (
    # both flows
    "resource",  # no RFC 8707 resource indicator
    "retry",  # retries a 503 at once, ignoring Retry-After
    "reauth",  # gives up after a 401 from an API
    "creds-in-url",  # also puts the access token in the API URL
    "token-in-query",  # also puts the access token in the API URL, as ?token=
    "secret-in-query",  # also puts the client secret in the token endpoint URL, as ?secret=
    "least-privilege",  # asks for read and write though it only reads
    "issuer-check",  # uses metadata whatever its issuer says
    # code flow
    "pkce",  # no PKCE at all
    "plain-pkce",  # PKCE with the plain method
    "state",  # sends no state
    "nonce",  # sends no nonce
    "id-token-signature",  # reads the ID token without verifying its signature
    "state-mismatch",  # sends a state but never compares the one that comes back
    "iss-mismatch",  # ignores the iss of the authorization response
    "step-up",  # answers an RFC 9470 challenge by signing in again without acr_values
)


class AgentError(Exception):
    pass


class Agent:
    def __init__(self, flow: str, skip: str | None) -> None:
        self.flow, self.skip = flow, skip
        self.issuer = os.environ["MOCKIDP_ISSUER"]
        self.client_id = os.environ["MOCKIDP_CLIENT_ID"]
        self.secret = os.environ.get("MOCKIDP_CLIENT_SECRET")
        self.redirect_uri = os.environ.get("MOCKIDP_REDIRECT_URI", "")
        self.apis = {
            k[len("MOCKIDP_API_") : -len("_URL")].lower(): v
            for k, v in sorted(os.environ.items())
            if k.startswith("MOCKIDP_API_") and k.endswith("_URL")
        }
        self.http = requests.Session()
        self.http.trust_env = False
        # check-agent --tls names mockidp's CA (trust_env=False also ignores REQUESTS_CA_BUNDLE)
        self.http.verify = os.environ.get("MOCKIDP_CA_FILE", True)
        self.metadata: dict[str, Any] = {}

    def discover(self) -> None:
        doc = "openid-configuration" if self.flow == "authorization_code" else "oauth-authorization-server"
        r = self.http.get(f"{self.issuer}/.well-known/{doc}", timeout=5)
        r.raise_for_status()
        self.metadata = r.json()
        if self.skip != "issuer-check" and self.metadata.get("issuer") != self.issuer:
            raise AgentError(f"metadata issuer {self.metadata.get('issuer')!r} is not {self.issuer!r}")

    def token_request(self, data: dict[str, str]) -> dict[str, Any]:
        auth = (self.client_id, self.secret) if self.secret else None
        if not self.secret:
            data = {**data, "client_id": self.client_id}
        for _ in range(4):
            leak = {"secret": self.secret} if self.skip == "secret-in-query" and self.secret else None
            r = self.http.post(self.metadata["token_endpoint"], data=data, auth=auth, params=leak, timeout=5)
            if r.status_code in (429, 503):
                wait = 0.0 if self.skip == "retry" else min(float(r.headers.get("Retry-After", "1")), 5.0)
                time.sleep(wait)
                continue
            if r.status_code != 200:
                raise AgentError(f"token endpoint said {r.status_code}: {r.text[:200]}")
            return dict(r.json())
        raise AgentError("token endpoint kept refusing")

    def scope_for(self, name: str) -> str:
        return f"{name}:read {name}:write" if self.skip == "least-privilege" else f"{name}:read"

    def token_for(self, name: str, url: str, acr_values: str | None = None) -> str:
        if self.flow == "client_credentials":
            data = {"grant_type": "client_credentials", "scope": self.scope_for(name)}
            if self.skip != "resource":
                data["resource"] = url
            return str(self.token_request(data)["access_token"])
        return self.code_flow(name, url, acr_values)

    def code_flow(self, name: str, url: str, acr_values: str | None = None) -> str:
        verifier = secrets.token_urlsafe(48)
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": f"openid {self.scope_for(name)}",
        }
        if self.skip != "state":
            params["state"] = state
        if self.skip != "nonce":
            params["nonce"] = nonce
        if self.skip == "plain-pkce":
            params.update(code_challenge=verifier, code_challenge_method="plain")
        elif self.skip != "pkce":
            digest = hashlib.sha256(verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            params.update(code_challenge=challenge, code_challenge_method="S256")
        if self.skip != "resource":
            params["resource"] = url
        if acr_values and self.skip != "step-up":
            params["acr_values"] = acr_values
        r = self.http.get(
            self.metadata["authorization_endpoint"], params=params, allow_redirects=False, timeout=5
        )
        if r.status_code not in (302, 303):
            raise AgentError(f"authorization endpoint said {r.status_code}: {r.text[:200]}")
        answer = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
        if self.skip not in ("state", "state-mismatch") and answer.get("state") != state:
            raise AgentError("state mismatch in the authorization response")
        if self.skip != "iss-mismatch" and answer.get("iss") != self.issuer:
            raise AgentError("iss mismatch in the authorization response")
        if "code" not in answer:
            raise AgentError(f"authorization failed: {answer}")
        data = {"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": self.redirect_uri}
        if self.skip not in ("pkce",):
            data["code_verifier"] = verifier
        if self.skip != "resource":
            data["resource"] = url
        tokens = self.token_request(data)
        self.check_id_token(str(tokens["id_token"]), nonce)
        return str(tokens["access_token"])

    def check_id_token(self, id_token: str, nonce: str) -> None:
        if self.skip == "id-token-signature":
            claims = jwt.decode(id_token, options={"verify_signature": False})
        else:
            header = jwt.get_unverified_header(id_token)
            keys = self.http.get(self.metadata["jwks_uri"], timeout=5).json()["keys"]
            jwk = next((k for k in keys if k.get("kid") == header.get("kid")), None)
            if jwk is None:
                raise AgentError("ID token signed by an unknown key")
            try:
                claims = jwt.decode(
                    id_token,
                    jwt.PyJWK(jwk).key,
                    algorithms=[jwk["alg"]],
                    audience=self.client_id,
                    issuer=self.issuer,
                )
            except jwt.PyJWTError as exc:
                raise AgentError(f"ID token rejected: {exc}") from None
        if self.skip != "nonce" and claims.get("nonce") != nonce:
            raise AgentError("ID token nonce mismatch")
        if claims.get("iss") != self.issuer or claims.get("aud") not in (self.client_id, [self.client_id]):
            raise AgentError("ID token iss/aud mismatch")
        if float(claims.get("exp", 0)) < time.time():
            raise AgentError("ID token expired")

    def call(self, name: str, url: str) -> None:
        token = self.token_for(name, url)
        for attempt in range(2):
            leaks = {"creds-in-url": {"access_token": token}, "token-in-query": {"token": token}}
            params = leaks.get(self.skip or "")
            r = self.http.get(url, headers={"Authorization": f"Bearer {token}"}, params=params, timeout=5)
            if r.status_code == 200:
                return
            if r.status_code == 401 and attempt == 0 and self.skip != "reauth":
                token = self.token_for(name, url, step_up(r.headers.get("WWW-Authenticate", "")))
                continue
            raise AgentError(f"{name} said {r.status_code}")

    def run(self) -> None:
        self.discover()
        for name, url in self.apis.items():
            self.call(name, url)


def step_up(challenge: str) -> str | None:
    """The ``acr_values`` of an RFC 9470 ``insufficient_user_authentication`` challenge."""
    if 'error="insufficient_user_authentication"' not in challenge:
        return None
    found = re.search(r'acr_values="([^"]*)"', challenge)
    return found.group(1) if found else None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", choices=["client_credentials", "authorization_code"], required=True)
    parser.add_argument("--skip", choices=SKIPS)
    args = parser.parse_args()
    try:
        Agent(args.flow, args.skip).run()
    except (AgentError, requests.RequestException, KeyError) as exc:
        print(f"agent: {exc}", file=sys.stderr)
        return 1
    print("agent: done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
