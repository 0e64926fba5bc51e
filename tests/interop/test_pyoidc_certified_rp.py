"""pyoidc (``oic``, an OpenID-certified RP library) against ``mockidp serve --login auto``.

The issue's "done when": a certified relying party completes code + PKCE with ID token
validation, userinfo, refresh with rotation, introspection and revocation, and is refused
for no PKCE, plain PKCE, a wrong verifier, a replayed code, an unregistered redirect URI and
a reused rotated refresh token.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

oic = pytest.importorskip("oic")

from oic import rndstr  # noqa: E402
from oic.extension.client import Client as OAuthClient  # noqa: E402
from oic.oic import Client  # noqa: E402
from oic.oic.message import (  # noqa: E402
    AccessTokenResponse,
    AuthorizationErrorResponse,
    AuthorizationResponse,
    OpenIDSchema,
    RegistrationResponse,
    TokenErrorResponse,
)
from oic.utils.authn.client import CLIENT_AUTHN_METHOD  # noqa: E402
from oic.utils.settings import OicClientSettings  # noqa: E402

pytestmark = [pytest.mark.interop, pytest.mark.slow]

REDIRECT = "http://127.0.0.1:5000/cb"
BASIC = "client_secret_basic"
CONFIG = """
clients:
  - client_id: rp
    client_secret: rp-secret
    grant_types: [authorization_code, refresh_token]
    redirect_uris: [http://127.0.0.1/cb]
    scopes: [openid, profile, email, offline_access, demo-api:read]
    audiences: [demo-api]
users:
  - sub: alice
    username: alice
    password: alice-pw
    claims: {name: Alice Example, email: alice@example.com, email_verified: true}
apis:
  - audience: demo-api
    scopes: [demo-api:read]
"""


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mockidp serve --login auto --port 0`` in a subprocess; its issuer from stdout."""
    config = Path(tmp_path_factory.mktemp("oic"), "idp.yaml")
    config.write_text(CONFIG, encoding="utf-8")
    cmd = [
        sys.executable,
        "-m",
        "mockidp",
        "serve",
        "--login",
        "auto",
        "--port",
        "0",
        "--config",
        str(config),
    ]
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            assert sel.select(timeout=30), "mockidp serve printed nothing within 30 s"
        line = proc.stdout.readline()
        assert line.startswith("issuer: "), line
        yield line.removeprefix("issuer: ").strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def rp(issuer: str, cls: Any = Client) -> Any:
    """A registered RP whose HTTP ignores proxy settings (loopback only)."""
    session = requests.Session()
    session.trust_env = False
    settings = OicClientSettings(requests_session=session)
    client = cls(client_authn_method=CLIENT_AUTHN_METHOD, settings=settings)
    client.provider_config(issuer)
    client.store_registration_info(
        RegistrationResponse(
            client_id="rp",
            client_secret="rp-secret",
            redirect_uris=[REDIRECT],
            token_endpoint_auth_method=BASIC,
        )
    )
    return client


def authorize(client: Any, state: str, **extra: Any) -> requests.Response:
    args = {
        "response_type": "code",
        "scope": ["openid", "profile", "email", "offline_access"],
        "nonce": rndstr(),
        "redirect_uri": REDIRECT,
        "state": state,
        **extra,
    }
    args = {k: v for k, v in args.items() if v is not None}
    url = client.construct_AuthorizationRequest(request_args=args).request(client.authorization_endpoint)
    with requests.Session() as http:
        http.trust_env = False
        return http.get(url, allow_redirects=False)


def code_for(client: Any, state: str) -> tuple[str, str]:
    """(code, verifier) from an S256 authorization request parsed by oic."""
    pkce, verifier = client.add_code_challenge()
    r = authorize(client, state, **pkce)
    parsed = client.parse_response(
        AuthorizationResponse, info=urlsplit(r.headers["Location"]).query, sformat="urlencoded"
    )
    assert isinstance(parsed, AuthorizationResponse), parsed
    return parsed["code"], verifier


def redeem(client: Any, state: str, code: str, verifier: str) -> Any:
    args = {"code": code, "code_verifier": verifier, "redirect_uri": REDIRECT}
    return client.do_access_token_request(state=state, request_args=args, authn_method=BASIC)


def test_code_pkce_id_token_userinfo_and_refresh(issuer: str) -> None:
    client, state = rp(issuer), rndstr()
    code, verifier = code_for(client, state)
    token = redeem(client, state, code, verifier)
    assert isinstance(token, AccessTokenResponse), token
    id_token = token["id_token"]  # oic verified signature (JWKS), iss, aud, nonce and times
    assert id_token["iss"] == issuer and id_token["aud"] == ["rp"] and id_token["sub"] == "alice"
    assert client.keyjar.get_issuer_keys(issuer)
    userinfo = client.do_user_info_request(state=state)
    assert isinstance(userinfo, OpenIDSchema)
    assert userinfo["sub"] == "alice" and userinfo["email"] == "alice@example.com"
    refreshed = client.do_access_token_refresh(state=state, authn_method=BASIC)
    assert isinstance(refreshed, AccessTokenResponse), refreshed
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert refreshed["access_token"] != token["access_token"]


def test_introspection_and_revocation(issuer: str) -> None:
    client, state = rp(issuer), rndstr()
    token = redeem(client, state, *code_for(client, state))
    oauth = rp(issuer, OAuthClient)

    def active(value: str) -> bool:
        answer = oauth.do_token_introspection(request_args={"token": value}, authn_method=BASIC)
        return bool(answer["active"])

    assert active(token["access_token"]) and active(token["refresh_token"])
    assert not active("not-a-token")
    status = oauth.do_token_revocation(
        request_args={"token": token["refresh_token"], "token_type_hint": "refresh_token"}, authn_method=BASIC
    )
    assert status == 200
    assert not active(token["refresh_token"]) and not active(token["access_token"])


def test_refused_without_pkce(issuer: str) -> None:
    client, state = rp(issuer), rndstr()
    r = authorize(client, state)
    parsed = client.parse_response(
        AuthorizationResponse, info=urlsplit(r.headers["Location"]).query, sformat="urlencoded"
    )
    assert isinstance(parsed, AuthorizationErrorResponse)
    assert parsed["error"] == "invalid_request" and parsed["state"] == state


def test_refused_with_plain_pkce(issuer: str) -> None:
    client, state = rp(issuer), rndstr()
    verifier = rndstr(64)
    r = authorize(client, state, code_challenge=verifier, code_challenge_method="plain")
    parsed = client.parse_response(
        AuthorizationResponse, info=urlsplit(r.headers["Location"]).query, sformat="urlencoded"
    )
    assert isinstance(parsed, AuthorizationErrorResponse)
    assert parsed["error"] == "invalid_request"
    assert "plain" in parsed["error_description"]


def test_refused_with_wrong_verifier(issuer: str) -> None:
    client, state = rp(issuer), rndstr()
    code, _ = code_for(client, state)
    answer = redeem(client, state, code, rndstr(64))
    assert isinstance(answer, TokenErrorResponse)
    assert answer["error"] == "invalid_grant"


def test_refused_for_replayed_code(issuer: str) -> None:
    client, state = rp(issuer), rndstr()
    code, verifier = code_for(client, state)
    first = redeem(client, state, code, verifier)
    assert isinstance(first, AccessTokenResponse)
    replay = redeem(client, state, code, verifier)
    assert isinstance(replay, TokenErrorResponse)
    assert replay["error"] == "invalid_grant"
    userinfo = client.do_user_info_request(state=state, token=first["access_token"])
    assert userinfo["error"] == "invalid_token"  # tokens from the replayed code are revoked


def test_refused_for_unregistered_redirect_uri(issuer: str) -> None:
    client, state = rp(issuer), rndstr()
    pkce, _ = client.add_code_challenge()
    r = authorize(client, state, redirect_uri="http://127.0.0.1:5000/elsewhere", **pkce)
    assert r.status_code == 400
    assert "Location" not in r.headers


def test_refused_for_reused_rotated_refresh_token(issuer: str) -> None:
    client, state = rp(issuer), rndstr()
    redeem(client, state, *code_for(client, state))
    first = client.get_token(state=state)
    rotated = client.do_access_token_refresh(state=state, authn_method=BASIC)
    assert isinstance(rotated, AccessTokenResponse)
    assert rotated["refresh_token"] != first.refresh_token
    newest = client.get_token(state=state)
    assert newest.refresh_token == rotated["refresh_token"]
    reuse = client.do_access_token_refresh(state=state, token=first, authn_method=BASIC)
    assert isinstance(reuse, TokenErrorResponse)
    assert reuse["error"] == "invalid_grant"
    again = client.do_access_token_refresh(state=state, token=newest, authn_method=BASIC)
    assert isinstance(again, TokenErrorResponse)  # the whole family was revoked
