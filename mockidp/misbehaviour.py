"""Protocol misbehaviour switches: the IdP lies on purpose, so agents' checks can be tested.

Unlike endpoint faults (wrong status, latency, dropped connection), these keep the HTTP
exchange healthy and make its *content* wrong: a metadata ``issuer`` that is not the real
one (RFC 8414 section 3.3), an authorization response with a wrong or missing ``iss``
(RFC 9207) or ``state`` (RFC 6749 section 4.1.2), a JWKS without the key in use, or a JWKS
that cannot be reached. The switches are one frozen :class:`MisbehaviourConfig` (also the
``misbehaviour:`` config key), swapped atomically on the live :class:`Misbehaviour`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import ConfigError
from .loading import build


class _Key(Protocol):
    @property
    def kid(self) -> str: ...


class PublishedKeys(Protocol):
    """What the JWKS switch reads of the key ring (``keys.KeyRing``, which sits above the config)."""

    def jwks(self) -> dict[str, Any]: ...
    @property
    def current(self) -> _Key: ...


#: the modes of ``authorization_iss`` / ``authorization_state``; any other string is sent verbatim.
#: ``variant``: the right value with a trailing slash, which RFC 9207 section 2.4 (simple string
#: comparison, no normalisation) makes a mismatch
MODES = ("ok", "wrong", "missing", "variant")
WRONG_ISSUER = "https://wrong-issuer.invalid"
WRONG_STATE_SUFFIX = "-tampered"
UNEXPECTED_STATE = "mockidp-unexpected-state"


#: a key of a known type whose modulus is not base64url: unusable, but harmless to skip
#: (RFC 7517 §5: members a JWK Set consumer cannot use are ignored)
BROKEN_JWK: dict[str, str] = {
    "kty": "RSA",
    "kid": "mockidp-broken-key",
    "use": "sig",
    "n": "!not-base64url!",
    "e": "AQAB",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class MisbehaviourConfig:
    """Every switch off by default: an honest IdP."""

    #: the ``issuer`` the metadata documents claim (None: the real one)
    metadata_issuer: str | None = None
    #: ``iss`` in authorization responses: ok | wrong | missing | an explicit value
    authorization_iss: str = "ok"
    #: ``state`` in authorization responses: ok | wrong | missing | an explicit value
    authorization_state: str = "ok"
    #: the JWKS leaves out the key currently signing (rotation without grace)
    jwks_drop_current: bool = False
    #: the JWKS endpoint drops every connection without answering
    jwks_unreachable: bool = False
    #: the JWKS also lists a key nobody can parse (a robust relying party ignores it)
    jwks_broken_key: bool = False
    #: metadata members to leave out (``authorization_response_iss_parameter_supported``);
    #: ``member:value`` leaves one value out of a list (``scopes_supported:offline_access``)
    metadata_omit: tuple[str, ...] = ()
    #: serve the metadata documents only at these paths (``{issuer_path}`` stands for the
    #: issuer's path), 404 elsewhere; empty: at every well-known location
    metadata_only_at: tuple[str, ...] = ()
    #: a dynamically registered client may ask for every scope, whatever its registration's
    #: ``scope`` said (RFC 7591 section 2 lets a server substitute): MCP scope step-up needs it
    registered_scope_ignored: bool = False

    def __post_init__(self) -> None:
        for name in ("authorization_iss", "authorization_state"):
            if not getattr(self, name):
                raise ConfigError(f"expected {' | '.join(MODES)} or a value to send", key_path=name)

    @property
    def active(self) -> bool:
        return self != MisbehaviourConfig()

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def _tampered(value: str | None, mode: str, wrong: str) -> str | None:
    """The value to send for one parameter (None: leave it out)."""
    if mode == "ok":
        return value
    if mode == "missing":
        return None
    if mode == "wrong":
        return wrong
    if mode == "variant":
        return value + "/" if value else None
    return mode


class Misbehaviour:
    """The live switches of one IdP, read by the discovery, authorize and JWKS handlers."""

    def __init__(self, config: MisbehaviourConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._config = config or MisbehaviourConfig()

    @property
    def config(self) -> MisbehaviourConfig:
        with self._lock:
            return self._config

    def load(self, config: MisbehaviourConfig) -> None:
        with self._lock:
            self._config = config

    def set(self, **switches: Any) -> MisbehaviourConfig:
        """Change some switches, keep the others; unknown names or bad values raise ConfigError."""
        with self._lock:
            merged = {**self._config.to_dict(), **switches}
            self._config = build(MisbehaviourConfig, merged, "misbehaviour")
            return self._config

    def reset(self) -> None:
        self.load(MisbehaviourConfig())

    # --- read by handlers ---------------------------------------------------------------

    @property
    def metadata_issuer(self) -> str | None:
        return self.config.metadata_issuer

    @property
    def jwks_drop_current(self) -> bool:
        return self.config.jwks_drop_current

    @property
    def jwks_unreachable(self) -> bool:
        return self.config.jwks_unreachable

    @property
    def jwks_broken_key(self) -> bool:
        return self.config.jwks_broken_key

    def metadata(self, document: dict[str, Any]) -> dict[str, Any]:
        """The metadata document without the members (or list values) ``metadata_omit`` names."""
        omit = self.config.metadata_omit
        if not omit:
            return document
        out = dict(document)
        for entry in omit:
            name, _, value = entry.partition(":")
            if not value:
                out.pop(name, None)
            elif isinstance(out.get(name), list):
                out[name] = [v for v in out[name] if v != value]
        return out

    def serves_metadata_at(self, path: str, issuer_path: str) -> bool:
        """Whether the metadata documents answer at ``path`` (``metadata_only_at``)."""
        only = self.config.metadata_only_at
        return not only or path in {p.replace("{issuer_path}", issuer_path) for p in only}

    def tamper_authorization_response(self, params: Mapping[str, str]) -> dict[str, str]:
        """Apply the ``iss``/``state`` switches to an authorization response's parameters.

        Works for success and error responses alike (both carry ``iss`` and ``state``). A
        wrong ``state`` is the client's value with a suffix, or an unexpected one if it sent none.
        """
        config = self.config
        out = dict(params)
        state = out.get("state")
        wrong_state = state + WRONG_STATE_SUFFIX if state else UNEXPECTED_STATE
        for name, mode, wrong in (
            ("iss", config.authorization_iss, WRONG_ISSUER),
            ("state", config.authorization_state, wrong_state),
        ):
            value = _tampered(out.get(name), mode, wrong)
            if value is None:
                out.pop(name, None)
            else:
                out[name] = value
        return out

    def jwks(self, keys: PublishedKeys) -> dict[str, Any]:
        """The JWKS document to publish: the real one, without the current key, or with a broken one."""
        document = keys.jwks()
        if self.jwks_drop_current:
            kid = keys.current.kid
            document = {**document, "keys": [k for k in document["keys"] if k.get("kid") != kid]}
        if self.jwks_broken_key:  # first, so a client that stops at the first bad key is caught
            document = {**document, "keys": [BROKEN_JWK, *document["keys"]]}
        return document
