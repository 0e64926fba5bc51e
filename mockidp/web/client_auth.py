"""Client authentication at the token, introspection and revocation endpoints.

Supports ``client_secret_basic`` (RFC 6749 section 2.3.1, with the form-encoding of id and
secret), ``client_secret_post`` and ``none`` for public clients. A client may use only one
method per request, and only a method it is registered for.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from urllib.parse import unquote_plus

from aiohttp import web

from ..config import ClientConfig
from ..errors import InvalidClient, InvalidRequest
from ..params import Params
from ..state import IdPState
from .keys import CLIENT_ID

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


def authenticate_client(
    state: IdPState, request: web.Request, params: Params, *, allow_public: bool = True
) -> AuthenticatedClient:
    """Identify and authenticate the calling client, or raise ``invalid_client``."""
    header = request.headers.get("Authorization")
    body_id = params.get("client_id")
    body_secret = params.get("client_secret")
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
