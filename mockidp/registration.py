"""RFC 7591 dynamic client registration: client metadata in, a registered ``ClientConfig`` out.

Strict on purpose: a client that sends contradictory or unsafe metadata is told so with
``invalid_client_metadata`` or ``invalid_redirect_uri`` instead of being silently "fixed".
Metadata this server does not understand is ignored, as RFC 7591 section 2 requires.

``application_type`` (OpenID Connect Registration section 2; MCP SEP-837) is recorded and sets
the redirect rules: ``native`` apps may use loopback ``http`` (any port at /authorize, RFC 8252
section 7.3), a private-use scheme (7.1) or a claimed ``https`` URI (7.2); ``web`` apps only
``https``, or loopback ``http`` while developing against this local IdP, never a private-use
scheme. ``private_key_jwt`` clients register their public keys as ``jwks`` or an https
``jwks_uri`` and get no secret. RFC 7592 updates go through :func:`register_client` too, with
the client's id (and secret) kept.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_args
from urllib.parse import urlsplit

from .client_keys import public_keys
from .config import CIBA_GRANT, DEVICE_GRANT, AuthMethod, ClientConfig, GrantType
from .errors import InvalidClientMetadata, InvalidRedirectUri

AUTH_METHODS: tuple[str, ...] = get_args(AuthMethod)
#: JWK members that belong to a private (or symmetric) key: never registered
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
GRANT_TYPE_NAMES: tuple[str, ...] = get_args(GrantType)
#: the grants whose tokens stand for a person, and so may come with refresh tokens
USER_GRANTS = frozenset({"authorization_code", DEVICE_GRANT, CIBA_GRANT})
#: the OpenID scopes a registered client may ask for: the same set the metadata advertises
OIDC_CLIENT_SCOPES = ("openid", "profile", "email", "address", "phone", "offline_access")
#: optional string metadata stored and echoed as sent (RFC 7591 section 2, OIDC Registration)
STRING_FIELDS = ("client_uri", "logo_uri", "tos_uri", "policy_uri", "software_id", "software_version")


@dataclass(frozen=True, slots=True)
class Registration:
    """A registered client and the metadata document returned for it (RFC 7591 section 3.2.1)."""

    client: ClientConfig
    response: dict[str, Any] = field(default_factory=dict)


def register_client(
    metadata: Any,
    *,
    known_scopes: set[str],
    audiences: tuple[str, ...],
    now: float,
    previous: ClientConfig | None = None,
) -> Registration:
    """Validate client metadata and build the client; raises the RFC 7591 errors.

    With ``previous`` (an RFC 7592 update) the client keeps its id, and its secret while it
    still uses one; ``now`` is then the original ``client_id_issued_at``.
    """
    if not isinstance(metadata, Mapping):
        raise InvalidClientMetadata("the registration request must be a JSON object")
    method = _choice(metadata, "token_endpoint_auth_method", AUTH_METHODS, "client_secret_basic")
    grants = _str_list(metadata, "grant_types", ["authorization_code"])
    responses = _str_list(metadata, "response_types", ["code"] if "authorization_code" in grants else [])
    _check_grants(grants, responses, public=method == "none")
    app_type = _choice(metadata, "application_type", ("web", "native"), "web")
    redirects = [_check_redirect(u, app_type) for u in _str_list(metadata, "redirect_uris", [])]
    if "authorization_code" in grants and not redirects:
        raise InvalidRedirectUri("redirect_uris is required for the authorization_code grant")
    logout = [_check_redirect(u, app_type) for u in _str_list(metadata, "post_logout_redirect_uris", [])]
    scopes = _scopes(metadata, known_scopes)
    _check_keys(metadata, method)
    client_name = _optional_str(metadata, "client_name")
    signed = method == "private_key_jwt"
    dpop_bound = metadata.get("dpop_bound_access_tokens", False)
    if not isinstance(dpop_bound, bool):
        raise InvalidClientMetadata("dpop_bound_access_tokens must be a boolean (RFC 9449 section 5.2)")
    client = ClientConfig(
        client_id=previous.client_id if previous else f"dcr-{secrets.token_urlsafe(12)}",
        client_secret=_secret(method, previous),
        token_endpoint_auth_method=method,  # type: ignore[arg-type]
        grant_types=tuple(grants),  # type: ignore[arg-type]
        redirect_uris=tuple(redirects),
        post_logout_redirect_uris=tuple(logout),
        scopes=tuple(scopes),
        audiences=audiences,
        client_name=client_name,
        jwks=metadata.get("jwks") if signed else None,
        jwks_uri=metadata.get("jwks_uri") if signed else None,
        dpop_bound_access_tokens=dpop_bound,
    )
    response: dict[str, Any] = {"client_id": client.client_id, "client_id_issued_at": int(now)}
    if client.client_secret is not None:
        response |= {"client_secret": client.client_secret, "client_secret_expires_at": 0}
    response |= {
        "token_endpoint_auth_method": method,
        "grant_types": grants,
        "response_types": responses,
        "redirect_uris": redirects,
        "scope": " ".join(scopes),
        "application_type": app_type,
    }
    if logout:
        response["post_logout_redirect_uris"] = logout
    if dpop_bound:
        response["dpop_bound_access_tokens"] = True
    for name in ("client_name", *STRING_FIELDS):
        value = _optional_str(metadata, name)
        if value is not None:
            response[name] = value
    for name in ("jwks", "jwks_uri", "contacts"):
        if name in metadata:
            response[name] = metadata[name]
    return Registration(client, response)


def _secret(method: str, previous: ClientConfig | None) -> str | None:
    """A secret for the secret-based methods: the one already issued, or a new one."""
    if method in ("none", "private_key_jwt"):
        return None
    if previous is not None and previous.client_secret is not None:
        return previous.client_secret
    return secrets.token_urlsafe(32)


def _choice(metadata: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = metadata.get(name, default)
    if value not in allowed:
        raise InvalidClientMetadata(f"{name} must be one of {', '.join(allowed)}")
    return str(value)


def _str_list(metadata: Mapping[str, Any], name: str, default: list[str]) -> list[str]:
    value = metadata.get(name)
    if value is None:
        return list(default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidClientMetadata(f"{name} must be an array of strings")
    out: list[str] = []
    for item in value:
        if item not in out:
            out.append(item)
    return out


def _optional_str(metadata: Mapping[str, Any], name: str) -> str | None:
    value = metadata.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidClientMetadata(f"{name} must be a string")
    return value


def _check_grants(grants: list[str], responses: list[str], *, public: bool) -> None:
    """Grant and response types must be known and agree (RFC 7591 section 2.1)."""
    for grant in grants:
        if grant not in GRANT_TYPE_NAMES:
            raise InvalidClientMetadata(f"grant type {grant!r} is not supported")
    for response_type in responses:
        if response_type != "code":
            raise InvalidClientMetadata(f"response type {response_type!r} is not supported (only code)")
    if ("authorization_code" in grants) != ("code" in responses):
        raise InvalidClientMetadata("grant type authorization_code and response type code go together")
    if public and "client_credentials" in grants:
        raise InvalidClientMetadata("client_credentials needs a confidential client, not auth method none")
    if public and CIBA_GRANT in grants:
        raise InvalidClientMetadata("CIBA needs a confidential client, not auth method none")
    if "refresh_token" in grants and not set(grants) & USER_GRANTS:
        raise InvalidClientMetadata("refresh_token is only issued with a grant that signs a person in")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_redirect(uri: str, app_type: str = "web") -> str:
    """Absolute, no fragment; https, http on loopback, or a private-use scheme (RFC 8252 7.1),
    the last for ``native`` clients only (a browser-based app cannot receive it)."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
    except ValueError:
        raise InvalidRedirectUri(f"redirect URI {uri!r} is not a valid URI") from None
    if not parts.scheme or "#" in uri or any(c in uri for c in " \t\r\n\x00"):
        raise InvalidRedirectUri(f"redirect URI {uri!r} must be absolute, without a fragment or spaces")
    if parts.scheme == "https" and host:
        return uri
    if parts.scheme == "http" and host:
        if _is_loopback(host):
            return uri
        raise InvalidRedirectUri(f"redirect URI {uri!r}: plain http is only allowed on loopback")
    if "." in parts.scheme and parts.scheme not in ("http", "https") and parts.path:
        if app_type != "native":
            raise InvalidRedirectUri(
                f"redirect URI {uri!r}: a private-use scheme is for application_type native, "
                "not web (OpenID Connect Registration section 2)"
            )
        return uri
    raise InvalidRedirectUri(f"redirect URI {uri!r} must be https, loopback http or a private-use scheme")


def _scopes(metadata: Mapping[str, Any], known: set[str]) -> list[str]:
    value = metadata.get("scope")
    if value is None:
        return sorted(known)
    if not isinstance(value, str):
        raise InvalidClientMetadata("scope must be a space-separated string")
    scopes: list[str] = []
    for scope in value.split(" "):
        if not scope or scope in scopes:
            continue
        if scope not in known:
            raise InvalidClientMetadata(f"scope {scope!r} is not offered by this server")
        scopes.append(scope)
    return scopes


def _is_https_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme == "https" and bool(parts.hostname) and not any(c in value for c in " \t\r\n")
    except ValueError:
        return False


def _check_keys(metadata: Mapping[str, Any], method: str) -> None:
    """``jwks`` and ``jwks_uri`` are exclusive (RFC 7591 section 2); both must be well formed;
    ``private_key_jwt`` needs one of them, with public signing keys only."""
    jwks, jwks_uri = metadata.get("jwks"), metadata.get("jwks_uri")
    if jwks is not None and jwks_uri is not None:
        raise InvalidClientMetadata("send jwks or jwks_uri, not both")
    if method == "private_key_jwt" and jwks is None and jwks_uri is None:
        raise InvalidClientMetadata("private_key_jwt needs jwks or jwks_uri (the client's public keys)")
    if jwks is not None and not (isinstance(jwks, Mapping) and isinstance(jwks.get("keys"), list)):
        raise InvalidClientMetadata("jwks must be a JWK Set object with a 'keys' array")
    if jwks is not None:
        keys = jwks["keys"]
        if not all(isinstance(k, Mapping) and isinstance(k.get("kty"), str) for k in keys):
            raise InvalidClientMetadata("every key in jwks must be a JWK object with a kty")
        if any(any(m in k for m in PRIVATE_MEMBERS) for k in keys):
            raise InvalidClientMetadata("jwks must hold public keys only (no private or symmetric members)")
        if method == "private_key_jwt" and not public_keys(jwks):
            raise InvalidClientMetadata(
                "jwks holds no usable signing key (RSA, EC P-256/384/521 or Ed25519, use sig)"
            )
    if jwks_uri is not None and not (isinstance(jwks_uri, str) and _is_https_url(jwks_uri)):
        raise InvalidClientMetadata("jwks_uri must be an https URL")
    contacts = metadata.get("contacts")
    if contacts is not None and not (
        isinstance(contacts, list) and all(isinstance(c, str) for c in contacts)
    ):
        raise InvalidClientMetadata("contacts must be an array of strings")
