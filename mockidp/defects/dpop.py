"""DPoP request defects (RFC 9449 §4.3, §7): a bound token sent with a proof broken one way.

Unlike the token catalog, the token is valid here; what is wrong is how it is presented: as
Bearer, with a proof of another key, for another method or URL or token, replayed, stale, or
without the nonce the API asked for. Each :class:`DPoPDefect` builds one :class:`DPoPRequest`
from a :class:`ProofKit` (the client's key, the bound token, the request); ``check-api --dpop``
sends them, and the suite's reference validator proves each is broken in exactly its stated way.
"""

from __future__ import annotations

import json
import secrets
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey

from .. import base64url
from ..dpop import access_token_hash, thumbprint
from .model import Severity

#: how old a stale proof is: far past any sane window (RFC 9449 §11.1 suggests seconds to minutes)
STALE_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class ProofKey:
    """The client's DPoP key (ES256); :attr:`jkt` is what its tokens are bound to."""

    key: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256", private=True))

    @property
    def jwk(self) -> dict[str, Any]:
        return dict(self.key.as_dict(private=False))

    @property
    def jkt(self) -> str:
        return thumbprint(self.jwk)

    def sign(self, claims: Mapping[str, Any], header: Mapping[str, Any] | None = None) -> str:
        """A proof: ``typ: dpop+jwt``, ``alg: ES256``, this key's public ``jwk`` (then ``header``)."""
        protected = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk, **(header or {})}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return jws.serialize_compact(
                protected, json.dumps(dict(claims)).encode(), self.key, algorithms=["ES256"]
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class ProofKit:
    """What a defect builds its request from."""

    key: ProofKey
    token: str
    method: str
    url: str
    now: int
    #: the API's current ``DPoP-Nonce`` (None: it asked for none)
    nonce: str | None = None

    def claims(self, **changes: Any) -> dict[str, Any]:
        """The claims of a valid proof for this request, with ``changes`` (None removes one)."""
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": self.method,
            "htu": self.url,
            "iat": self.now,
            "ath": access_token_hash(self.token),
        }
        if self.nonce is not None:
            claims["nonce"] = self.nonce
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def proof(self, header: Mapping[str, Any] | None = None, **changes: Any) -> str:
        return self.key.sign(self.claims(**changes), header)


@dataclass(frozen=True, slots=True)
class DPoPRequest:
    """How the token is presented: ``Authorization: <scheme> <token>`` and the ``DPoP`` headers.

    ``replay``: the same request is sent twice; the first must be accepted, the second refused.
    """

    scheme: str
    token: str
    proofs: tuple[str, ...] = ()
    replay: bool = False


Builder = Callable[[ProofKit], DPoPRequest]


@dataclass(frozen=True, slots=True, kw_only=True)
class DPoPDefect:
    """One named way to present a DPoP-bound token wrongly, with the reaction a correct API shows."""

    name: str
    description: str
    spec: str
    #: the validation step that must fail (the reference validator's reason code)
    check: str
    consequence: str
    build: Builder
    severity: Severity = "must"
    expected_status: int = 401
    #: any of these ``error`` codes is right (RFC 9449 §7.1 leaves some cases to either)
    expected_errors: tuple[str, ...] = ("invalid_dpop_proof", "invalid_token")
    #: only meaningful against an API that demands a nonce (RFC 9449 §9)
    needs_nonce: bool = False

    @property
    def expected_error(self) -> str:
        return self.expected_errors[0]

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "spec": self.spec,
            "expected_status": self.expected_status,
            "expected_errors": list(self.expected_errors),
            "severity": self.severity,
            "check": self.check,
            "consequence": self.consequence,
            "needs_nonce": self.needs_nonce,
        }


def valid_request(kit: ProofKit) -> DPoPRequest:
    """The correct request: the DPoP scheme and one fresh proof of the bound key."""
    return DPoPRequest("DPoP", kit.token, (kit.proof(),))


def _dpop(kit: ProofKit, proof: str) -> DPoPRequest:
    return DPoPRequest("DPoP", kit.token, (proof,))


def _unsigned(kit: ProofKit) -> DPoPRequest:
    header = {"typ": "dpop+jwt", "alg": "none", "jwk": kit.key.jwk}
    segments = [base64url.encode(json.dumps(part).encode()) for part in (header, kit.claims())]
    return _dpop(kit, ".".join(segments) + ".")


def _bad_signature(kit: ProofKit) -> DPoPRequest:
    head, payload, signature = kit.proof().split(".")
    flipped = bytearray(base64url.decode(signature))
    flipped[0] ^= 0x01
    return _dpop(kit, f"{head}.{payload}.{base64url.encode(bytes(flipped))}")


def _other_key(kit: ProofKit) -> DPoPRequest:
    return _dpop(kit, replace(kit, key=ProofKey()).proof())


def _other_url(url: str) -> str:
    return url.rstrip("/") + "-other"


_SPEC = "RFC 9449 §4.3"
_BINDING = "a stolen DPoP-bound token is used without the client's private key"

DPOP_DEFECTS: tuple[DPoPDefect, ...] = (
    DPoPDefect(
        name="dpop-bound-token-as-bearer",
        description="a DPoP-bound token (`cnf.jkt`) sent as `Authorization: Bearer`, with no proof",
        spec="RFC 9449 §7.1, §7.2",
        check="dpop-scheme",
        consequence=f"{_BINDING}: the binding is ignored, so the token is a bearer token after all",
        expected_errors=("invalid_token", "invalid_dpop_proof"),
        build=lambda kit: DPoPRequest("Bearer", kit.token),
    ),
    DPoPDefect(
        name="dpop-proof-missing",
        description="`Authorization: DPoP` with the bound token but no `DPoP` proof header",
        spec="RFC 9449 §7.1; §4.3 check 1",
        check="dpop-proof",
        consequence=f"{_BINDING}: no proof is asked for",
        build=lambda kit: DPoPRequest("DPoP", kit.token),
    ),
    DPoPDefect(
        name="dpop-proof-other-key",
        description="a well-formed proof for this request, signed by a key other than the token's `cnf.jkt`",
        spec="RFC 9449 §7.1 (the proof's key must match `cnf.jkt`); §6.1",
        check="dpop-jkt",
        consequence=f"{_BINDING}: the thief signs proofs with a key of their own",
        build=_other_key,
    ),
    DPoPDefect(
        name="dpop-proof-unsigned",
        description="a proof with `alg: none` and no signature",
        spec=f"{_SPEC} checks 5, 6",
        check="dpop-signature",
        consequence=f"{_BINDING}: anyone can write an unsigned proof naming the client's public key",
        build=_unsigned,
    ),
    DPoPDefect(
        name="dpop-proof-bad-signature",
        description="a proof whose signature does not verify with its `jwk`",
        spec=f"{_SPEC} check 6",
        check="dpop-signature",
        consequence=f"{_BINDING}: a forged proof names the client's public key but was never signed by it",
        build=_bad_signature,
    ),
    DPoPDefect(
        name="dpop-proof-wrong-typ",
        description="a proof signed by the right key but typed `JWT` instead of `dpop+jwt`",
        spec=f"{_SPEC} check 4",
        check="dpop-typ",
        consequence="a JWT the client signed for another purpose could pass as a proof",
        severity="should",
        build=lambda kit: _dpop(kit, kit.proof({"typ": "JWT"})),
    ),
    DPoPDefect(
        name="dpop-htm-wrong",
        description="a proof for another HTTP method (`htm`) than the request's",
        spec=f"{_SPEC} check 8",
        check="dpop-htm",
        consequence="a captured proof for a read is replayed for a write (or any other method)",
        build=lambda kit: _dpop(kit, kit.proof(htm="DELETE" if kit.method != "DELETE" else "GET")),
    ),
    DPoPDefect(
        name="dpop-htu-wrong",
        description="a proof for another URL (`htu`) than the request's",
        spec=f"{_SPEC} check 9",
        check="dpop-htu",
        consequence="a captured proof for one endpoint is used at another",
        build=lambda kit: _dpop(kit, kit.proof(htu=_other_url(kit.url))),
    ),
    DPoPDefect(
        name="dpop-ath-wrong",
        description="a proof whose `ath` is the hash of another access token",
        spec=f"{_SPEC} check 11; §7.1",
        check="dpop-ath",
        consequence="a captured proof made for one token is presented with another token of the same key",
        build=lambda kit: _dpop(kit, kit.proof(ath=access_token_hash(kit.token + "-other"))),
    ),
    DPoPDefect(
        name="dpop-ath-missing",
        description="a proof without `ath`, sent with an access token",
        spec=f"{_SPEC} check 11; §7.1",
        check="dpop-ath",
        consequence="proofs made without any token (for the token endpoint) are accepted with every token",
        build=lambda kit: _dpop(kit, kit.proof(ath=None)),
    ),
    DPoPDefect(
        name="dpop-jti-replayed",
        description="a valid request sent twice with the same proof (`jti`)",
        spec=f"{_SPEC} check 12; §11.1",
        check="dpop-jti",
        consequence="whoever captures one request replays it while the proof is fresh",
        build=lambda kit: replace(valid_request(kit), replay=True),
    ),
    DPoPDefect(
        name="dpop-iat-stale",
        description=f"a proof whose `iat` is {STALE_SECONDS // 60} minutes old",
        spec=f"{_SPEC} check 11; §11.1",
        check="dpop-iat",
        consequence="an old captured proof is replayed once the jti memory has forgotten it",
        build=lambda kit: _dpop(kit, kit.proof(iat=kit.now - STALE_SECONDS)),
    ),
    DPoPDefect(
        name="dpop-nonce-missing",
        description="a proof without the `nonce` the API demanded in `DPoP-Nonce`",
        spec="RFC 9449 §9; §4.3 check 10",
        check="dpop-nonce",
        consequence="proofs pre-generated while the key was briefly exposed stay usable indefinitely",
        expected_errors=("use_dpop_nonce",),
        needs_nonce=True,
        build=lambda kit: _dpop(kit, kit.proof(nonce=None)),
    ),
)

DPOP_CATALOG: Mapping[str, DPoPDefect] = MappingProxyType({d.name: d for d in DPOP_DEFECTS})


__all__ = [
    "DPOP_CATALOG",
    "DPoPDefect",
    "DPoPRequest",
    "ProofKey",
    "ProofKit",
    "valid_request",
]
