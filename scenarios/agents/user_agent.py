"""An agent acting for a person, done right: authorization code + PKCE S256, OpenID Connect.

Standard library plus joserfc (installed with mockidp) for the ID token signature. It reads the
MOCKIDP_* environment; in ``login: auto`` the IdP answers the authorization request at once
with a redirect, whose Location carries the code (a real agent would run a loopback listener).

- stops when the metadata's ``issuer`` is not the issuer it was given;
- sends ``state``, ``nonce``, a PKCE S256 challenge and an RFC 8707 ``resource``; asks only
  ``openid <api>:read``;
- stops when the response's ``state`` or RFC 9207 ``iss`` is not what it expects;
- verifies the ID token: signature with a key from the JWKS (its own algorithm only), ``iss``,
  ``aud``, ``exp`` and ``nonce``; stops on any mismatch, before calling an API;
- waits ``Retry-After`` on 429/503; after a 401 from an API, authorizes again once, with the
  ``acr_values`` an RFC 9470 ``insufficient_user_authentication`` challenge names.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


NO_REDIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())


class Stop(Exception):
    pass


def fetch(
    url: str, *, data: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any, Any]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})  # noqa: S310 - http from MOCKIDP_*
    try:
        with OPENER.open(request, timeout=5) as response:
            return response.status, json.load(response), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, None, exc.headers


class UserAgent:
    def __init__(self) -> None:
        self.issuer = os.environ["MOCKIDP_ISSUER"]
        self.client_id = os.environ["MOCKIDP_CLIENT_ID"]
        self.redirect_uri = os.environ["MOCKIDP_REDIRECT_URI"]
        status, doc, _ = fetch(f"{self.issuer}/.well-known/openid-configuration")
        if status != 200 or not isinstance(doc, dict):
            raise Stop(f"no metadata ({status})")
        if doc.get("issuer") != self.issuer:
            raise Stop(f"metadata issuer {doc.get('issuer')!r} is not {self.issuer!r}")
        self.doc = doc

    def authorize(self, name: str, resource: str, acr_values: str | None = None) -> str:
        verifier, state, nonce = (
            secrets.token_urlsafe(48),
            secrets.token_urlsafe(16),
            secrets.token_urlsafe(16),
        )
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": f"openid {name}:read",
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "resource": resource,
                **({"acr_values": acr_values} if acr_values else {}),
            }
        )
        url = f"{self.doc['authorization_endpoint']}?{query}"
        try:
            NO_REDIRECT.open(url, timeout=5)
            raise Stop("the authorization endpoint did not redirect")
        except urllib.error.HTTPError as exc:
            location = exc.headers.get("Location", "")
        answer = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
        if answer.get("state") != state:
            raise Stop("state in the authorization response is not ours")
        if answer.get("iss") != self.issuer:
            raise Stop("iss in the authorization response is not our IdP (RFC 9207)")
        if "code" not in answer:
            raise Stop(f"authorization failed: {answer.get('error')}")
        form = {
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": self.redirect_uri,
            "client_id": self.client_id,
            "code_verifier": verifier,
            "resource": resource,
        }
        tokens = self.token(form)
        self.verify_id_token(str(tokens.get("id_token", "")), nonce)
        return str(tokens["access_token"])

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        for _ in range(3):
            status, body, headers = fetch(self.doc["token_endpoint"], data=form)
            if status in (429, 503):
                time.sleep(min(float(headers.get("Retry-After", "1")), 10.0))
                continue
            if status != 200:
                raise Stop(f"token endpoint said {status}")
            return dict(body)
        raise Stop("token endpoint kept refusing")

    def verify_id_token(self, id_token: str, nonce: str) -> None:
        _, jwks, _ = fetch(self.doc["jwks_uri"])
        keys = KeySet.import_key_set(jwks)
        algs = sorted({str(k["alg"]) for k in jwks["keys"]})
        try:
            claims = jwt.decode(id_token, keys, algorithms=algs).claims
        except (JoseError, ValueError) as exc:
            raise Stop(f"ID token signature: {exc}") from None
        if claims.get("iss") != self.issuer:
            raise Stop("ID token from another issuer")
        aud = claims.get("aud")
        if self.client_id not in (aud if isinstance(aud, list) else [aud]):
            raise Stop("ID token for another client")
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
            raise Stop("ID token expired")
        if claims.get("nonce") != nonce:
            raise Stop("ID token nonce is not ours")

    def call(self, name: str, url: str) -> None:
        access = self.authorize(name, url)
        for attempt in range(2):
            status, _, headers = fetch(url, headers={"Authorization": f"Bearer {access}"})
            if status == 200:
                print(f"{name}: ok")
                return
            if status == 401 and attempt == 0:
                access = self.authorize(
                    name, url, step_up(headers.get("WWW-Authenticate", "") if headers else "")
                )
                continue
            raise Stop(f"{name} said {status}")


def step_up(challenge: str) -> str | None:
    """The ``acr_values`` of an RFC 9470 ``insufficient_user_authentication`` challenge."""
    if 'error="insufficient_user_authentication"' not in challenge:
        return None
    found = re.search(r'acr_values="([^"]*)"', challenge)
    return found.group(1) if found else None


def main() -> int:
    prefix, suffix = "MOCKIDP_API_", "_URL"
    apis = {
        k[len(prefix) : -len(suffix)].lower(): v
        for k, v in sorted(os.environ.items())
        if k.startswith(prefix) and k.endswith(suffix)
    }
    try:
        agent = UserAgent()
        for name, url in apis.items():
            agent.call(name, url)
    except Stop as exc:
        print(f"user-agent: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
