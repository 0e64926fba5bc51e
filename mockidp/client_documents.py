"""Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document; MCP
authorization 2025-11-25): an https ``client_id`` URL names a JSON document that registers the
client, fetched when the client shows up instead of being registered beforehand.

The rules, each refused with the reason in the error description:
- the URL: https (``http://`` only on loopback with ``cimd.allow_http_loopback``), a path,
  no fragment, no user info, no ``.``/``..`` segments; on a trusted host if
  ``cimd.trusted_hosts`` is set; never a private address (``mockidp.outbound``);
- the fetch: a 200, no redirect, at most 5 KB, a JSON object; cached by its HTTP cache headers;
- the document: ``client_id`` equal to the URL exactly; ``redirect_uris`` required; no
  ``client_secret``; ``token_endpoint_auth_method`` ``none`` (the default) or
  ``private_key_jwt`` with ``jwks`` or ``jwks_uri`` (no shared secret can be published).

A bad URL shape is ``invalid_request``; anything about the document is ``invalid_client``. A
client registered with the same id (config, control API, RFC 7591) wins over any document.
Resolving blocks (it fetches): call :func:`resolve_client` off the event loop. The resolved
client is kept in the store, so every later lookup (``store.client``) sees it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .config import CimdConfig, ClientConfig, GrantType
from .errors import ConfigError, FetchError, InvalidClient, InvalidRequest, OAuthError
from .outbound import FetchPolicy
from .registration import OIDC_CLIENT_SCOPES, _check_grants, _check_keys, _check_redirect

if TYPE_CHECKING:
    from .state import IdPState

#: the draft's recommended limit on a document's size
MAX_DOCUMENT_BYTES = 5 * 1024
#: the auth methods a published document may name: none that needs a shared secret
DOCUMENT_AUTH_METHODS = ("none", "private_key_jwt")
#: grant types a document may ask for (the user flows; client credentials for signed clients)
DOCUMENT_GRANT_TYPES: tuple[GrantType, ...] = ("authorization_code", "refresh_token", "client_credentials")


#: RFC 3986 URLs are printable ASCII (anything else is percent-encoded)
_URL_CHARS = re.compile(r"[\x21-\x7e]+")


def is_document_client_id(client_id: str) -> bool:
    """Whether ``client_id`` is shaped like a metadata-document URL (``https://`` or ``http://``)."""
    return client_id.startswith(("https://", "http://"))


def wants_document(state: IdPState, client_id: str | None) -> bool:
    """Whether ``client_id`` must be resolved from its document: CIMD on, URL-shaped, and no
    client registered under that id."""
    return (
        client_id is not None
        and state.config.cimd.enabled
        and is_document_client_id(client_id)
        and not state.store.is_registered(client_id)
    )


def check_client_id_url(client_id: str, config: CimdConfig) -> None:
    """The URL rules of the draft's "Client Identifier URL" section; ``invalid_request`` if broken."""
    if not _URL_CHARS.fullmatch(client_id):
        # URL parsers drop leading spaces and some controls: the id compared must be the id fetched
        raise InvalidRequest(f"client_id {client_id!r} must be a URL of printable ASCII without spaces")
    try:
        parts = urlsplit(client_id)
        if parts.port == 0:
            raise ValueError("port 0")
    except ValueError:  # also a port out of range or not a number
        raise InvalidRequest(f"client_id {client_id!r} is not a valid URL") from None
    loopback_http = config.allow_http_loopback and parts.scheme == "http" and _is_loopback(parts.hostname)
    if parts.scheme != "https" and not loopback_http:
        raise InvalidRequest(
            f"client_id {client_id!r}: a client ID metadata document URL must be https"
            + ("" if parts.scheme != "http" else " (http only on loopback, with cimd.allow_http_loopback)")
        )
    if not parts.hostname:
        raise InvalidRequest(f"client_id {client_id!r} has no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidRequest(f"client_id {client_id!r} must not contain a user name or password")
    if "#" in client_id:
        raise InvalidRequest(f"client_id {client_id!r} must not contain a fragment")
    if parts.path in ("", "/"):
        raise InvalidRequest(f"client_id {client_id!r} must have a path")
    segments = [s.lower().replace("%2e", ".") for s in parts.path.split("/")]  # %2E is a dot too
    if "." in segments or ".." in segments:
        raise InvalidRequest(f"client_id {client_id!r} must not contain dot segments")
    if config.trusted_hosts and parts.hostname not in config.trusted_hosts:
        raise InvalidClient(
            f"client_id {client_id!r}: host {parts.hostname!r} is not a trusted client ID metadata "
            "document host (cimd.trusted_hosts)"
        )


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def fetch_policy(config: CimdConfig) -> FetchPolicy:
    return FetchPolicy(
        max_bytes=MAX_DOCUMENT_BYTES,
        allow_http_loopback=config.allow_http_loopback,
        allowed_hosts=config.trusted_hosts,
    )


def resolve_client(state: IdPState, client_id: str) -> ClientConfig:
    """Fetch (or take from the IdP's cache), validate and remember the client ``client_id`` names.

    Raises ``invalid_request`` for a malformed URL and ``invalid_client`` for everything else.
    """
    config = state.config.cimd
    check_client_id_url(client_id, config)
    try:
        fetched = state.client_documents.get(client_id, fetch_policy(config))
    except FetchError as exc:
        raise InvalidClient(f"client ID metadata document refused: {exc}") from None
    try:
        client = client_from_document(client_id, fetched.body, state)
        return state.store.remember_document_client(client)
    except OAuthError as exc:
        raise InvalidClient(f"client ID metadata document {client_id}: {exc.description}") from None
    except ConfigError as exc:
        raise InvalidClient(f"client ID metadata document {client_id}: {exc.message}") from None


def client_from_document(url: str, document: Mapping[str, Any], state: IdPState) -> ClientConfig:
    """The client a document describes, or an ``OAuthError`` naming the first broken rule."""
    if document.get("client_id") != url:
        raise InvalidClient(f"its client_id {document.get('client_id')!r} is not the URL it was fetched from")
    for secret in ("client_secret", "client_secret_expires_at"):
        if secret in document:
            raise InvalidClient(f"it must not contain {secret} (a published document holds no secret)")
    method = document.get("token_endpoint_auth_method", "none")
    if method not in DOCUMENT_AUTH_METHODS:
        raise InvalidClient(
            f"token_endpoint_auth_method {method!r} is not allowed; use none or private_key_jwt "
            "(a shared secret cannot be published)"
        )
    _check_keys(document, method)
    jwks, jwks_uri = document.get("jwks"), document.get("jwks_uri")
    if method == "private_key_jwt" and jwks is None and jwks_uri is None:
        raise InvalidClient("private_key_jwt needs jwks or jwks_uri in the document")
    if method == "none" and (jwks is not None or jwks_uri is not None):
        raise InvalidClient("jwks and jwks_uri are for token_endpoint_auth_method private_key_jwt")
    redirects = _strings(document, "redirect_uris", required=True)
    grants = _strings(document, "grant_types") or ["authorization_code"]
    responses = _strings(document, "response_types") or (["code"] if "authorization_code" in grants else [])
    unknown = [g for g in grants if g not in DOCUMENT_GRANT_TYPES]
    if unknown:
        raise InvalidClient(f"grant type {unknown[0]!r} is not supported")
    _check_grants(grants, responses, public=method == "none")
    name = document.get("client_name")
    if name is not None and not isinstance(name, str):
        raise InvalidClient("client_name must be a string")
    apis = state.store.apis()
    known = {s for api in apis.values() for s in api.scopes} | set(OIDC_CLIENT_SCOPES)
    return ClientConfig(
        client_id=url,
        token_endpoint_auth_method=method,
        grant_types=tuple(grants),  # type: ignore[arg-type]
        redirect_uris=tuple(_check_redirect(u) for u in redirects),
        post_logout_redirect_uris=tuple(
            _check_redirect(u) for u in _strings(document, "post_logout_redirect_uris")
        ),
        scopes=_scopes(document, known),
        audiences=tuple(apis),
        client_name=name,
        jwks=jwks,
        jwks_uri=jwks_uri,
    )


def _strings(document: Mapping[str, Any], name: str, *, required: bool = False) -> list[str]:
    value = document.get(name)
    if value is None:
        if required:
            raise InvalidClient(f"{name} is required")
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidClient(f"{name} must be an array of strings")
    if required and not value:
        raise InvalidClient(f"{name} must not be empty")
    return list(dict.fromkeys(value))


def _scopes(document: Mapping[str, Any], known: set[str]) -> tuple[str, ...]:
    """The document's ``scope`` limited to what this server offers (a document is written for
    many servers, so a scope unknown here is left out, not an error); no ``scope``: all of them."""
    value = document.get("scope")
    if value is None:
        return tuple(sorted(known))
    if not isinstance(value, str):
        raise InvalidClient("scope must be a space-separated string")
    return tuple(dict.fromkeys(s for s in value.split(" ") if s in known))


def document_host(state: IdPState, client_id: str) -> str | None:
    """The host a document client was fetched from (shown on the consent page), else None."""
    if not state.store.is_document_client(client_id):
        return None
    return urlsplit(client_id).hostname
