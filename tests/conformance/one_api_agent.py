"""An agent that needs one API, written the common way: Authlib's OAuth2Session, requests, PyJWT.

    python one_api_agent.py --flow client_credentials|authorization_code [--habit HABIT]

Independent of mockidp: it reads the MOCKIDP_* environment, uses only MOCKIDP_API_INVENTORY_URL
(the billing API is there too, and left alone), and lists the inventory, following RFC 8288
``Link: rel="next"`` pages. It keeps one token for the API and renews it a little before its
``expires_in`` runs out (by refresh token in the code flow), after a 401, and never otherwise.

Habits (what a less careful agent does): ``token-per-call`` gets a new token for every call;
``never-renew`` keeps its first token whatever ``expires_in`` said; ``crash`` dies before any
request; ``crash-after-metadata`` fetches the metadata and then dies of a bug of its own.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session

HABITS = ("token-per-call", "never-renew", "crash", "crash-after-metadata")


class Stop(Exception):
    pass


class RetryLater(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


def retry_later_hook(response: requests.Response) -> requests.Response:
    """Authlib compliance hook: a 429/503 from the token endpoint carries a Retry-After to honour."""
    if response.status_code in (429, 503):
        raise RetryLater(min(float(response.headers.get("Retry-After", "1")), 5.0))
    return response


class OneApiAgent:
    def __init__(self, flow: str, habit: str | None) -> None:
        self.flow, self.habit = flow, habit
        self.issuer = os.environ["MOCKIDP_ISSUER"]
        self.api = os.environ["MOCKIDP_API_INVENTORY_URL"]
        self.scope = "inventory:read"
        self.http = requests.Session()
        self.http.trust_env = False
        self.oauth = OAuth2Session(
            os.environ["MOCKIDP_CLIENT_ID"],
            os.environ.get("MOCKIDP_CLIENT_SECRET"),
            redirect_uri=os.environ.get("MOCKIDP_REDIRECT_URI"),
            token_endpoint_auth_method="client_secret_basic" if flow == "client_credentials" else "none",
            code_challenge_method="S256",
        )
        self.oauth.trust_env = False
        self.oauth.register_compliance_hook("access_token_response", retry_later_hook)
        self.metadata: dict[str, Any] = {}
        self.token: dict[str, Any] | None = None
        self.acr_values: str | None = None
        self.renew_at = 0.0

    def discover(self) -> None:
        doc = "openid-configuration" if self.flow == "authorization_code" else "oauth-authorization-server"
        response = self.http.get(f"{self.issuer}/.well-known/{doc}", timeout=5)
        response.raise_for_status()
        self.metadata = response.json()
        if self.habit == "crash-after-metadata":
            self.metadata["token_endpoint_typo"].strip()  # a bug of the agent's own: KeyError
        if self.metadata.get("issuer") != self.issuer:
            raise Stop(f"metadata issuer {self.metadata.get('issuer')!r} is not {self.issuer!r}")

    def retrying(self, fetch: Any, **kwargs: Any) -> dict[str, Any]:
        for _ in range(3):
            try:
                return dict(fetch(self.metadata["token_endpoint"], **kwargs))
            except RetryLater as later:
                time.sleep(later.seconds)
        raise Stop("the token endpoint kept refusing")

    def new_token(self) -> str:
        refresh = (self.token or {}).get("refresh_token")
        if refresh:
            token = self.retrying(self.oauth.refresh_token, refresh_token=refresh, resource=self.api)
        elif self.flow == "client_credentials":
            token = self.retrying(
                self.oauth.fetch_token, grant_type="client_credentials", scope=self.scope, resource=self.api
            )
        else:
            token = self.authorize()
        lifetime = float(token.get("expires_in", 60))
        # renew a little early: a quarter of the lifetime, at most 30 s
        self.renew_at = time.monotonic() + lifetime - min(30.0, lifetime / 4)
        self.token = token
        return str(token["access_token"])

    def access_token(self) -> str:
        fresh = self.token is not None and (self.habit == "never-renew" or time.monotonic() < self.renew_at)
        if fresh and self.habit != "token-per-call":
            assert self.token is not None
            return str(self.token["access_token"])
        return self.new_token()

    def authorize(self) -> dict[str, Any]:
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        url, state = self.oauth.create_authorization_url(
            self.metadata["authorization_endpoint"],
            code_verifier=verifier,
            nonce=nonce,
            scope=f"openid offline_access {self.scope}",
            resource=self.api,
            **({"acr_values": self.acr_values} if self.acr_values else {}),
        )
        response = self.http.get(url, allow_redirects=False, timeout=5)
        if response.status_code not in (302, 303):
            raise Stop(f"authorization endpoint said {response.status_code}")
        location = response.headers["Location"]
        answer = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        if answer.get("state") != state:
            raise Stop("state mismatch in the authorization response")
        if answer.get("iss") != self.issuer:
            raise Stop("iss mismatch in the authorization response (RFC 9207)")
        token = self.retrying(
            self.oauth.fetch_token,
            authorization_response=location,
            state=state,
            code_verifier=verifier,
            resource=self.api,
        )
        self.check_id_token(str(token["id_token"]), nonce)
        return token

    def check_id_token(self, id_token: str, nonce: str) -> None:
        kid = jwt.get_unverified_header(id_token).get("kid")
        keys = self.http.get(self.metadata["jwks_uri"], timeout=5).json()["keys"]
        jwk = next((k for k in keys if k.get("kid") == kid), None)
        if jwk is None:
            raise Stop("ID token signed by a key the IdP did not publish")
        try:
            claims = jwt.decode(
                id_token,
                jwt.PyJWK(jwk).key,
                algorithms=[jwk["alg"]],
                audience=self.oauth.client_id,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise Stop(f"ID token rejected: {exc}") from None
        if claims.get("nonce") != nonce:
            raise Stop("ID token nonce mismatch")

    def run(self) -> None:
        if self.habit == "crash":
            raise RuntimeError("the agent fell over before its first request")
        self.discover()
        url: str | None = self.api
        pages = 0
        while url:
            response = self.get(url)
            pages += 1
            url = response.links.get("next", {}).get("url")
        print(f"one-api-agent: read {pages} page(s) of the inventory")

    def get(self, url: str) -> requests.Response:
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.access_token()}"}
            response = self.http.get(url, headers=headers, timeout=5)
            if response.status_code == 401 and attempt == 0:
                self.renew_at = 0.0  # the API no longer takes it: renew, once
                wanted = step_up(response.headers.get("WWW-Authenticate", ""))
                if wanted and self.flow == "authorization_code":
                    # RFC 9470: a refresh keeps the old sign-in; sign in again at the level asked for
                    self.acr_values, self.token = wanted, None
                continue
            if response.status_code != 200:
                raise Stop(f"inventory said {response.status_code}")
            return response
        raise Stop("inventory refused a fresh token too")


def step_up(challenge: str) -> str | None:
    """The ``acr_values`` of an RFC 9470 ``insufficient_user_authentication`` challenge."""
    if 'error="insufficient_user_authentication"' not in challenge:
        return None
    found = re.search(r'acr_values="([^"]*)"', challenge)
    return found.group(1) if found else None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flow", choices=["client_credentials", "authorization_code"], required=True)
    parser.add_argument("--habit", choices=HABITS)
    args = parser.parse_args()
    try:
        OneApiAgent(args.flow, args.habit).run()
    except (Stop, AuthlibBaseError, requests.RequestException) as exc:
        print(f"one-api-agent: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
