"""Client authentication at the token, introspection and revocation endpoints.

Supports ``client_secret_basic`` (RFC 6749 section 2.3.1, with the form-encoding of id and
secret), ``client_secret_post``, ``private_key_jwt`` (RFC 7523 section 2.2; the checks are in
:mod:`mockidp.client_assertion`) and ``none`` for public clients. A client may use only one
method per request, and only a method it is registered for.

Authentication runs on the event loop, except a ``private_key_jwt`` client whose keys come
from a ``jwks_uri``: that fetch blocks, so its assertion is checked in the worker pool.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from urllib.parse import unquote_plus

from aiohttp import web

from ..client_assertion import (
    ASSERTION_TYPE,
    MAX_ASSERTION,
    AssertionAudience,
    check_assertion,
    refused,
    unverified,
)
from ..config import ClientConfig
from ..errors import InvalidClient, InvalidRequest
from ..params import Params
from ..state import IdPState
from .client_documents import requested_client_id, resolve_document_client
from .keys import CLIENT_ASSERTION, CLIENT_ID
from .workers import off_loop

BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="mockidp", charset="UTF-8"'}


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    client: ClientConfig
    method: str


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise InvalidClient("unsupported Authorization scheme; use Basic", headers=BASIC_CHALLENGE)
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("malformed Basic credentials", headers=BASIC_CHALLENGE) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient("malformed Basic credentials", headers=BASIC_CHALLENGE)
    return unquote_plus(client_id), unquote_plus(secret)


async def authenticate_client(
    state: IdPState, request: web.Request, params: Params, *, allow_public: bool = True
) -> AuthenticatedClient:
    """Identify and authenticate the calling client, or raise ``invalid_client``.

    A client named by a metadata-document URL is resolved first, so every endpoint that
    authenticates clients (token, introspection, revocation, device, CIBA) accepts them alike.
    """
    await resolve_document_client(state, requested_client_id(params))
    header = request.headers.get("Authorization")
    body_id = params.get("client_id")
    body_secret = params.get("client_secret")
    if params.get("client_assertion") is not None or params.get("client_assertion_type") is not None:
        if header is not None or body_secret is not None:
            raise InvalidRequest("use only one client authentication method per request")
        return await _assertion(state, request, params)
    if header is not None:
        if body_secret is not None:
            raise InvalidRequest("use only one client authentication method per request")
        client_id, secret = _basic_credentials(header)
        if body_id is not None and body_id != client_id:
            raise InvalidRequest("client_id in the body differs from the Basic credentials")
        request[CLIENT_ID] = client_id
        return _check(state, client_id, secret, "client_secret_basic", BASIC_CHALLENGE)
    if body_id is None:
        raise InvalidClient("client authentication is required")
    request[CLIENT_ID] = body_id
    if body_secret is not None:
        return _check(state, body_id, body_secret, "client_secret_post", {})
    authenticated = _check(state, body_id, None, "none", {})
    if not allow_public:
        raise InvalidClient("this endpoint needs an authenticated client")
    return authenticated


def _check(
    state: IdPState, client_id: str, secret: str | None, method: str, challenge: dict[str, str]
) -> AuthenticatedClient:
    client = state.store.client(client_id)
    if client is None:
        raise InvalidClient("unknown client or wrong credentials", headers=challenge)
    if method not in client.auth_methods:
        if method == "none":
            raise InvalidClient("this client must authenticate", headers=challenge)
        raise InvalidClient(
            f"this client is registered for {', '.join(client.auth_methods)}, not {method}",
            headers=challenge,
        )
    if secret is not None:
        expected = (client.client_secret or "").encode("utf-8")
        if not hmac.compare_digest(secret.encode("utf-8"), expected):
            raise InvalidClient("unknown client or wrong credentials", headers=challenge)
    return AuthenticatedClient(client, method)


async def _assertion(state: IdPState, request: web.Request, params: Params) -> AuthenticatedClient:
    """``private_key_jwt``: find the client the assertion names, then check it (RFC 7521 §4.2)."""
    if params.get("client_assertion_type") != ASSERTION_TYPE:
        raise InvalidClient(f"client_assertion_type must be {ASSERTION_TYPE}")
    assertion = params.get("client_assertion")
    if not assertion:
        raise InvalidClient("client_assertion is missing")
    peeked = unverified(assertion)
    if peeked is not None:
        request[CLIENT_ASSERTION] = {"header": peeked[0], "claims": peeked[1]}
    named = peeked[1].get("iss") if peeked is not None else None
    client_id = params.get("client_id")
    if client_id is not None and named is not None and named != client_id:
        raise refused("iss differs from the client_id parameter")
    client_id = client_id if client_id is not None else named
    if not isinstance(client_id, str) or not client_id:
        if peeked is None:  # say why it could not be read, as a client_id parameter would let us
            if len(assertion) > MAX_ASSERTION:
                raise refused(f"the assertion is longer than {MAX_ASSERTION} characters")
            raise refused("not a compact JWS (header.payload.signature, base64url JSON)")
        raise refused("names no client (no iss and no client_id parameter)")
    request[CLIENT_ID] = client_id
    client = _check(state, client_id, None, "private_key_jwt", {}).client
    audience = AssertionAudience(state.issuer, state.endpoint("token"))

    def check() -> AuthenticatedClient:
        check_assertion(
            assertion,
            client.client_id,
            lambda kid: state.client_keys.find(client, kid),
            audience,
            state.clock.now(),
            lambda jti, until: state.store.remember_jti(client.client_id, jti, until, state.clock.now()),
        )
        return AuthenticatedClient(client, "private_key_jwt")

    # a jwks_uri fetch blocks: off the loop (inline keys verify in microseconds, on it)
    return await off_loop(check) if client.jwks_uri is not None else check()
