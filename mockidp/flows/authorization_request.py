"""Validating an authorization request (OAuth 2.1 section 4.1.1, OIDC Core 3.1.2.1).

Two kinds of refusal: when the client or its redirect URI cannot be trusted, the user sees
an error page and nobody is redirected (:class:`AuthorizationPageError`); every other error
goes back to the client's redirect URI (:class:`AuthorizationRedirect`).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..config import ClientConfig
from ..errors import (
    AuthorizationPageError,
    AuthorizationRedirect,
    InvalidRequest,
    InvalidToken,
    OAuthError,
    UnauthorizedClient,
)
from ..grants import AuthorizationRequest
from ..params import Params
from ..state import IdPState
from ..targets import requested_targets, select_audiences, select_scopes
from ..verify import verify_id_token_hint
from .claims_request import parse_acr_values, parse_claims_request

#: RFC 7636 section 4.1/4.2: 43-128 unreserved characters
PKCE_VALUE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "[::1]", "localhost"})
PROMPTS = frozenset({"none", "login", "consent", "select_account"})
_NETLOC = re.compile(r"(\[[^\]]*\]|[^:\[\]]*)(?::(\d{1,5}))?")


def redirect_uri_matches(registered: str, candidate: str) -> bool:
    """Exact match, except that a loopback redirect URI may use any port (OAuth 2.1 §8.4.2)."""
    if candidate == registered:
        return True
    reg, cand = urlsplit(registered), urlsplit(candidate)
    if reg.scheme != "http" or cand.scheme != "http" or "#" in candidate:
        return False
    reg_host, cand_host = _NETLOC.fullmatch(reg.netloc), _NETLOC.fullmatch(cand.netloc)
    if reg_host is None or cand_host is None or reg_host.group(1) not in LOOPBACK_HOSTS:
        return False
    port = cand_host.group(2)
    if port is not None and not 0 < int(port) <= 65535:
        return False
    return (reg_host.group(1), reg.path, reg.query) == (cand_host.group(1), cand.path, cand.query)


def _single(params: Params, name: str) -> str | None:
    values = params.getall(name)
    if len(values) > 1:
        raise AuthorizationPageError(f"the parameter '{name}' is repeated")
    return values[0] if values else None


JKT_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")


def client_and_redirect(state: IdPState, params: Params) -> tuple[ClientConfig, str, bool]:
    """The client and the redirect URI to answer on, or an :class:`AuthorizationPageError`."""
    client_id = _single(params, "client_id")
    if client_id is None:
        raise AuthorizationPageError("the request has no client_id")
    client = state.store.client(client_id)
    if client is None:
        raise AuthorizationPageError(f"no client is registered as {client_id!r}")
    redirect_uri = _single(params, "redirect_uri")
    if redirect_uri is None:
        if len(client.redirect_uris) != 1:
            raise AuthorizationPageError("redirect_uri is required: the client registered several or none")
        return client, client.redirect_uris[0], False
    if not any(redirect_uri_matches(r, redirect_uri) for r in client.redirect_uris):
        raise AuthorizationPageError(f"{redirect_uri!r} is not a registered redirect URI of this client")
    return client, redirect_uri, True


def parse_authorization_request(state: IdPState, params: Params) -> AuthorizationRequest:
    """A validated request, or the refusal to show (page) or send back (redirect)."""
    client, redirect_uri, sent = client_and_redirect(state, params)
    states = params.getall("state")
    echo = states[0] if len(states) == 1 else None
    try:
        return _validate(state, client, params, redirect_uri, sent)
    except OAuthError as exc:
        raise AuthorizationRedirect(exc, redirect_uri, echo) from None


def _validate(
    state: IdPState, client: ClientConfig, params: Params, redirect_uri: str, sent: bool
) -> AuthorizationRequest:
    params.check_single()
    if "request" in params:
        raise OAuthError("request objects are not supported", error="request_not_supported")
    if "request_uri" in params:
        raise OAuthError("request_uri is not supported", error="request_uri_not_supported")
    response_type = params.require("response_type")
    if response_type != "code":
        raise OAuthError(
            f"response_type {response_type!r} is not supported; use 'code'",
            error="unsupported_response_type",
        )
    if "authorization_code" not in client.allowed_grant_types:
        raise UnauthorizedClient(f"client {client.client_id!r} may not use the authorization code flow")
    if params.get("response_mode") not in (None, "query"):
        raise InvalidRequest("only response_mode=query is supported")
    challenge, method = _pkce(client, params)
    audiences = select_audiences(state, client, requested_targets(params))
    scopes = select_scopes(state, client, params.get("scope"), audiences, allow_oidc=True)
    if "openid" in scopes and not sent:
        raise InvalidRequest("OpenID Connect requests must send redirect_uri")
    claims = parse_claims_request(params.get("claims"))
    acr_values = parse_acr_values(params.get("acr_values")) or claims.acr_values
    return AuthorizationRequest(
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        redirect_uri_sent=sent,
        scopes=tuple(scopes),
        audiences=tuple(audiences),
        state=params.get("state"),
        nonce=params.get("nonce"),
        code_challenge=challenge,
        code_challenge_method=method,
        login_hint=params.get("login_hint"),
        prompt=_prompt(params.get("prompt")),
        max_age=_max_age(params.get("max_age")),
        hinted_subject=_hinted_subject(state, params.get("id_token_hint")),
        acr_values=acr_values,
        id_token_claims=claims.id_token,
        userinfo_claims=claims.userinfo,
        dpop_jkt=_dpop_jkt(params.get("dpop_jkt")),
    )


def _dpop_jkt(value: str | None) -> str | None:
    """RFC 9449 §10: a JWK SHA-256 thumbprint, 43 base64url characters."""
    if value is not None and not JKT_VALUE.fullmatch(value):
        raise InvalidRequest("dpop_jkt must be a base64url JWK SHA-256 thumbprint (RFC 9449 section 10)")
    return value


def _hinted_subject(state: IdPState, hint: str | None) -> str | None:
    """The ``sub`` of ``id_token_hint`` (OIDC Core 3.1.2.1): an ID token this IdP signed,
    expired or not; this IdP need not be its audience."""
    if hint is None:
        return None
    try:
        claims = verify_id_token_hint(hint, state.keys.find, state.issuer)
    except InvalidToken:
        raise InvalidRequest("id_token_hint is not an ID token issued by this provider") from None
    return str(claims["sub"])


def _pkce(client: ClientConfig, params: Params) -> tuple[str | None, str | None]:
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is None:
        if method is not None:
            raise InvalidRequest("code_challenge_method without code_challenge")
        if client.require_pkce:
            raise InvalidRequest("PKCE is required: send code_challenge with code_challenge_method=S256")
        return None, None
    method = method or "plain"  # RFC 7636 section 4.3: the default is plain
    if method == "plain":
        if not client.allow_plain_pkce:
            raise InvalidRequest("code_challenge_method 'plain' is not allowed; use S256")
    elif method != "S256":
        raise InvalidRequest(f"code_challenge_method {method!r} is not supported; use S256")
    if not PKCE_VALUE.fullmatch(challenge) or (method == "S256" and len(challenge) != 43):
        raise InvalidRequest("code_challenge is malformed (RFC 7636 section 4.2)")
    return challenge, method


def _max_age(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or len(value) > 10:
        raise InvalidRequest("max_age must be a non-negative number of seconds")
    return int(value)


def _prompt(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    prompts = tuple(p for p in value.split(" ") if p)
    unknown = [p for p in prompts if p not in PROMPTS]
    if unknown:
        raise InvalidRequest(f"unsupported prompt value {unknown[0]!r}")
    if "none" in prompts and len(prompts) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values")
    return prompts


__all__ = [
    "AuthorizationPageError",
    "AuthorizationRedirect",
    "client_and_redirect",
    "parse_authorization_request",
    "redirect_uri_matches",
]
