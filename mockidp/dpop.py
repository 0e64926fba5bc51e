"""DPoP (RFC 9449): checking the proof a request carries, for the token endpoint and mock APIs.

:func:`check_proof` is RFC 9449 §4.3 in order (signature and header through
:func:`mockidp.verify.verify_dpop_jws`, then ``htm``, ``htu``, ``iat``, ``nonce``, ``ath``, the
key binding and, last, ``jti`` replay), so one refusal names the first check that failed. The
token endpoint binds what it issues to :func:`thumbprint` (RFC 7638) as ``cnf.jkt``; a resource
server compares the proof's key with it (§7.1). Server nonces (§8, §9) are stateless: an HMAC of
the time window, so the current and the previous window's nonce are accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from . import base64url
from .errors import InvalidDPoPProof, InvalidToken, UseDPoPNonce
from .verify import DPOP_ALGS, verify_dpop_jws

#: the request header that carries the proof (RFC 9449 §4.1)
HEADER = "DPoP"
#: RFC 7638 §3.2: the members of each key type a thumbprint covers
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
#: a server nonce stays valid for this long (and one window more)
NONCE_WINDOW = 300
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

#: remembers a jti in a scope until a time; False when it was seen (``Store.remember_jti``)
RememberJti = Callable[[str, float], bool]


@dataclass(frozen=True, slots=True)
class Proof:
    """A proof that passed every check: its key's thumbprint and its claims."""

    jkt: str
    claims: Mapping[str, Any]


@dataclass(slots=True)
class Nonces:
    """Stateless server nonces (RFC 9449 §8): an HMAC of the clock's window under a random secret."""

    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    window: int = NONCE_WINDOW

    def _for(self, slot: int) -> str:
        mac = hmac.new(self.secret, str(slot).encode("ascii"), hashlib.sha256).digest()
        return base64url.encode(mac[:18])

    def current(self, now: float) -> str:
        return self._for(int(now // self.window))

    def accepts(self, nonce: Any, now: float) -> bool:
        if not isinstance(nonce, str):
            return False
        slot = int(now // self.window)
        given = nonce.encode("utf-8", "surrogatepass")  # compare_digest takes ASCII str only
        return any(hmac.compare_digest(given, self._for(s).encode("ascii")) for s in (slot, slot - 1))


@dataclass(frozen=True, slots=True, kw_only=True)
class ProofCheck:
    """What a proof must fit: the request, the clock, and (at a resource) the token it goes with."""

    method: str
    url: str
    now: float
    #: ``iat`` may be this many seconds away from ``now``, either way
    max_age: int = 60
    algs: Collection[str] = DPOP_ALGS
    #: at a resource: the access token (``ath``) and the key it is bound to (``cnf.jkt``)
    access_token: str | None = None
    jkt: str | None = None
    #: demand the server's nonce
    nonces: Nonces | None = None
    #: ``status`` of a nonce demand: 400 at the token endpoint, 401 at a resource
    nonce_status: int = 400


def proof_header(headers: Any) -> str | None:
    """The one ``DPoP`` header's value (None: no proof); two are refused (RFC 9449 §4.3 check 1)."""
    values = headers.getall(HEADER, []) if hasattr(headers, "getall") else [headers.get(HEADER)]
    values = [v for v in values if v is not None]
    if not values:
        return None
    if len(values) > 1:
        raise InvalidDPoPProof("more than one DPoP header")
    return str(values[0]).strip()


def check_proof(proof: str, check: ProofCheck, remember: RememberJti) -> Proof:
    """The proof's key and claims if it passes RFC 9449 §4.3 for ``check``; else
    :class:`InvalidDPoPProof` (or :class:`UseDPoPNonce` when only the nonce is missing or old).

    ``remember`` is asked last, so a refused proof does not use up its ``jti``.
    """
    try:
        header, claims = verify_dpop_jws(proof, check.algs)
    except InvalidToken as exc:
        raise InvalidDPoPProof(exc.description) from None
    for name in ("jti", "htm", "htu", "iat"):
        if name not in claims:
            raise InvalidDPoPProof(f"the proof lacks the {name!r} claim")
    jti, htm, htu, iat = claims["jti"], claims["htm"], claims["htu"], claims["iat"]
    if not isinstance(jti, str) or not jti or len(jti) > 256:
        raise InvalidDPoPProof("jti must be a non-empty string")
    if htm != check.method:
        raise InvalidDPoPProof(f"htm {_short(htm)} is not the request's method {check.method}")
    if not isinstance(htu, str) or normalized_htu(htu) != normalized_htu(check.url):
        raise InvalidDPoPProof(f"htu {_short(htu)} is not this request's URL")
    if not _numeric_date(iat) or abs(iat - check.now) > check.max_age:
        raise InvalidDPoPProof(f"iat is not within {check.max_age} seconds of the server's clock")
    if check.nonces is not None and not check.nonces.accepts(claims.get("nonce"), check.now):
        what = "a nonce" if "nonce" not in claims else "a current nonce"
        raise UseDPoPNonce(
            f"the proof must carry {what} from the DPoP-Nonce header",
            nonce=check.nonces.current(check.now),
            status=check.nonce_status,
        )
    jkt = thumbprint(header["jwk"])
    if check.access_token is not None:
        if "ath" not in claims:
            raise InvalidDPoPProof("ath is missing (a proof sent with an access token must hash it)")
        if claims.get("ath") != access_token_hash(check.access_token):
            raise InvalidDPoPProof("ath is not the hash of the access token")
        if check.jkt is None or not same_jkt(jkt, check.jkt):
            raise InvalidDPoPProof("the proof is signed by another key than the token is bound to")
    # acceptable until iat + max_age (a proof dated ahead too), so remembered that long
    if not remember(jti, float(iat) + check.max_age):
        raise InvalidDPoPProof("the proof's jti was already used (a replayed proof)")
    return Proof(jkt=jkt, claims=claims)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a resource refuses a request whose token is itself valid: the challenge to send."""

    error: str
    description: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceRequest:
    """A request to a protected resource, as far as DPoP is concerned (RFC 9449 §7)."""

    method: str
    #: the URL the resource is known by (never taken from the ``Host`` header)
    url: str
    #: ``bearer`` or ``dpop``
    scheme: str
    token: str
    #: the verified claims of ``token``
    claims: Mapping[str, Any]
    now: float


def resource_refusal(
    headers: Any,
    request: ResourceRequest,
    *,
    required: bool = False,
    nonces: Nonces | None = None,
    remember: RememberJti,
    max_age: int = 60,
) -> Refusal | None:
    """None when ``request`` may use its token as sent; else why not (RFC 9449 §7.1, §7.2).

    A bound token (``cnf.jkt``) needs the DPoP scheme and one proof of its key for this very
    request; sent as Bearer it is refused. ``required`` refuses unbound tokens too.
    """
    jkt = bound_jkt(request.claims)
    if request.scheme == "bearer":
        if jkt is not None:
            return Refusal(
                "invalid_token", "a DPoP-bound token must be sent with the DPoP scheme and a proof"
            )
        if required:
            return Refusal("invalid_token", "only DPoP-bound tokens are accepted here")
        return None
    if jkt is None:
        return Refusal("invalid_token", "the token is not DPoP-bound; send it as Bearer")
    try:
        proof = proof_header(headers)
        if proof is None:
            raise InvalidDPoPProof("send a DPoP proof with a DPoP-bound token")
        check = ProofCheck(
            method=request.method,
            url=request.url,
            now=request.now,
            max_age=max_age,
            access_token=request.token,
            jkt=jkt,
            nonces=nonces,
            nonce_status=401,
        )
        check_proof(proof, check, remember)
    except UseDPoPNonce as exc:
        return Refusal("use_dpop_nonce", exc.description, headers={"DPoP-Nonce": exc.nonce})
    except InvalidDPoPProof as exc:
        return Refusal("invalid_dpop_proof", exc.description)
    return None


def same_jkt(a: str, b: str) -> bool:
    """Constant-time equality of two thumbprints (any text: a token's ``cnf.jkt`` may be odd)."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def _numeric_date(value: Any) -> bool:
    """A JSON number a clock can be compared with (no bool, no 400-digit integer)."""
    return not isinstance(value, bool) and isinstance(value, int | float) and 0 <= value < 2**53


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 JWK SHA-256 thumbprint, base64url: the ``jkt`` a token is bound to."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None or not all(isinstance(jwk.get(m), str) for m in members):
        raise InvalidDPoPProof("the proof's jwk lacks the members of its key type")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return base64url.encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def access_token_hash(token: str) -> str:
    """``ath``: base64url SHA-256 of the access token's ASCII (RFC 9449 §4.2)."""
    return base64url.encode(hashlib.sha256(token.encode("ascii", "replace")).digest())


def normalized_htu(url: str) -> str:
    """``url`` without query and fragment, normalised per RFC 3986 §6.2.2 and §6.2.3 (§4.3 check 9).

    Scheme and host lower case, the default port dropped, an empty path as ``/``,
    percent-encodings upper case and unreserved characters decoded.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "\x00invalid"
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    path = _PERCENT.sub(_normal_escape, parts.path) or "/"
    return urlunsplit((scheme, netloc, path, "", ""))


def _normal_escape(match: re.Match[str]) -> str:
    char = unquote(match.group())
    return char if char in _UNRESERVED else match.group().upper()


def bound_jkt(claims: Mapping[str, Any]) -> str | None:
    """The ``cnf.jkt`` a token is bound to (RFC 9449 §6.1), or None for a bearer token."""
    cnf = claims.get("cnf")
    if not isinstance(cnf, Mapping):
        return None
    jkt = cnf.get("jkt")
    return jkt if isinstance(jkt, str) else None
