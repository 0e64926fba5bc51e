"""Token-type confusion: a well-signed JWT that is not an access token (RFC 8725 §3.11, §3.12).

Each must be refused by its explicit type (``typ: at+jwt``, RFC 9068 §4) or by what the IdP
knows about it (revocation), never by luck in some other claim.
"""

from __future__ import annotations

import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..base64url import decode as b64url_decode
from ..base64url import encode as b64url
from ..errors import MockIdPError
from .edits import set_header
from .jose import dumps
from .model import ACCESS, Defect, MintContext

TYP_SPEC = "RFC 9068 §4; RFC 8725 §3.11"
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def _as_id_token(claims: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    out = {k: v for k, v in claims.items() if k not in ("scope", "client_id")}
    out.update({"aud": ctx.client_id, "azp": ctx.client_id, "nonce": "mockidp-nonce", "auth_time": ctx.now})
    return out


def _as_dpop_proof(claims: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    return {**claims, "htm": "GET", "htu": ctx.audiences[0]}


def _as_logout_token(claims: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    return {**claims, "events": {LOGOUT_EVENT: {}}, "sid": "mockidp-session"}


def _as_refresh_token(claims: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    """A JWT refresh token as Keycloak-style IdPs issue them: ``typ: Refresh`` claim, aud = issuer."""
    return {**claims, "typ": "Refresh", "aud": ctx.issuer}


def _as_id_jag(claims: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    """An Identity Assertion JWT Authorization Grant: aud = the resource's AS, for a token exchange."""
    out = {k: v for k, v in claims.items() if k != "scope"}
    return {**out, "aud": ctx.issuer, "resource": ctx.audiences[0], "scope": " ".join(ctx.scope)}


def _big_p2c(token: str, ctx: MintContext) -> str:
    """A compact JWE whose PBES2 header asks for 2^31 - 1 PBKDF2 iterations (jose4j CVE-2023-51775).

    Only its header needs parsing to refuse it; the other segments are random filler.
    """
    header = {"alg": "PBES2-HS512+A256KW", "enc": "A256GCM", "p2s": b64url(os.urandom(16)), "p2c": 2**31 - 1}
    filler = [b64url(os.urandom(n)) for n in (40, 12, 64, 16)]
    return ".".join([b64url(dumps(header)), *filler])


def _encrypt(token: str, ctx: MintContext) -> str:
    """The same claims as a compact JWE (``dir`` + A256GCM) with no signature inside."""
    payload = b64url_decode(token.split(".")[1])
    header = {"alg": "dir", "enc": "A256GCM", "typ": "at+jwt", "kid": ctx.key.kid}
    protected = b64url(dumps(header))
    iv = os.urandom(12)
    sealed = AESGCM(AESGCM.generate_key(bit_length=256)).encrypt(iv, payload, protected.encode("ascii"))
    ciphertext, tag = sealed[:-16], sealed[-16:]
    return f"{protected}..{b64url(iv)}.{b64url(ciphertext)}.{b64url(tag)}"


def _revoke(ctx: MintContext, claims: dict[str, Any]) -> None:
    """Revoke the token in the store, so introspection reports it inactive."""
    jti = claims.get("jti")
    if not ctx.idp.remembers(str(jti)):
        raise MockIdPError("the revoked defect needs a token the IdP remembers (issue it with jti)")
    ctx.idp.revoke(str(jti))


_TYP = frozenset({"header:typ"})
_SHAPE = frozenset({"header:typ", "claim:aud", "claim:scope", "claim:client_id", "claim:nonce"})


def _typ(name: str, typ: str | None, description: str, claims: Any = None, **extra: Any) -> Defect:
    return Defect(
        name=name,
        group="type",
        description=description,
        spec=extra.pop("spec", TYP_SPEC),
        applies_to=ACCESS,
        check="typ",
        consequence=extra.pop(
            "consequence",
            "any other JWT the IdP signs (ID, logout tokens) replays as an access token; "
            "PyJWT and most libraries skip `typ` unless told to check it",
        ),
        header=set_header(typ=typ),
        claims=claims,
        touches=extra.pop("touches", _TYP),
        **extra,
    )


DEFECTS: tuple[Defect, ...] = (
    _typ("typ-jwt", "JWT", '`typ: "JWT"` instead of `at+jwt`'),
    _typ("typ-missing", None, "no `typ` header"),
    _typ(
        "id-token-as-access-token",
        "JWT",
        "an ID token (aud = client_id, nonce, no scope) presented as an access token",
        _as_id_token,
        consequence="an ID token from a sign-in (often handed to front ends) opens the API",
        spec="RFC 8725 §2.8, §3.12; RFC 9068 §4",
        touches=_SHAPE,
    ),
    _typ(
        "dpop-proof-as-access-token",
        "dpop+jwt",
        "a token typed `dpop+jwt` (a DPoP proof, with `htm`/`htu`) presented as an access token",
        _as_dpop_proof,
        consequence="a JWT signed for proof of possession is used as an access token",
        spec="RFC 9449 §4.2; RFC 8725 §3.12",
    ),
    _typ(
        "logout-token-as-access-token",
        "logout+jwt",
        "a back-channel logout token (`logout+jwt`, `events`) presented as an access token",
        _as_logout_token,
        consequence="a logout token sent to every client of the IdP opens the API",
        spec="OIDC Back-Channel Logout §2.4; RFC 8725 §3.12",
    ),
    _typ(
        "refresh-token-as-access-token",
        "JWT",
        "a JWT refresh token (`typ: Refresh` claim, aud = the issuer) presented as an access token",
        _as_refresh_token,
        consequence="a long-lived refresh token, meant only for the token endpoint, opens the API",
        spec="RFC 8725 §3.11, §3.12; RFC 9068 §4; RFC 6749 §1.5",
        touches=_SHAPE,
    ),
    _typ(
        "id-jag-as-access-token",
        "oauth-id-jag+jwt",
        "an Identity Assertion JWT Authorization Grant (`oauth-id-jag+jwt`) presented as an access token",
        _as_id_jag,
        consequence="a grant meant for an authorization server's token exchange opens the API directly",
        spec="draft-ietf-oauth-identity-assertion-authz-grant §3; RFC 8725 §3.12; RFC 9068 §4",
        touches=_SHAPE,
    ),
    Defect(
        name="jwe-pbes2-huge-p2c",
        group="type",
        description="a compact JWE with `alg: PBES2-HS512+A256KW` and `p2c` = 2^31 - 1 iterations",
        spec="RFC 8725 §3.3; RFC 9068 §4; RFC 7518 §4.8.1.2",
        applies_to=ACCESS,
        check="jwe",
        consequence=(
            "an API that decrypts JWEs spends hours in PBKDF2 per request (jose4j CVE-2023-51775): one "
            "request stalls it, which fails as crashed"
        ),
        rewrite=_big_p2c,
    ),
    Defect(
        name="jwe-instead-of-jws",
        group="type",
        description="a five-part JWE (`dir`, A256GCM) with the claims and no signature at all",
        spec="RFC 8725 §3.3; RFC 9068 §4; RFC 7516 §9",
        applies_to=ACCESS,
        check="jwe",
        consequence="a token with no signature at all is accepted: anyone who picks the key forges it",
        rewrite=_encrypt,
    ),
    Defect(
        name="revoked",
        group="type",
        description=(
            "a valid token the IdP has revoked (introspection says `active: false`); "
            "only an API that introspects can know"
        ),
        spec="RFC 7009 §2.2; RFC 7662 §2.2; OAuth 2.1 §5",
        severity="should",
        applies_to=ACCESS,
        check="revoked",
        consequence="a revoked token keeps working until it expires",
        issued=_revoke,
        # it finds the token by `jti`: a combination that drops the claim cannot be revoked
        touches=frozenset({"revocation", "claim:jti"}),
    ),
)
