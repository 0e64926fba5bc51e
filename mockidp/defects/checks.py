"""What each validation step (a defect's ``check`` code) means when it is missing, and its fix.

check-api groups the tokens an API let through by this code, so one missing check is one
finding with one fix hint, however many catalog entries exercise it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Check:
    #: what the API does not do, completing "the API ..."
    cause: str
    #: how to fix it, with the clause that requires it
    fix: str


#: the DPoP request checks (``mockidp.defects.dpop``), RFC 9449 §4.3 and §7.1
_DPOP: dict[str, Check] = {
    "scheme": Check(
        "accepts a DPoP-bound token sent as Bearer",
        "refuse a token with `cnf.jkt` unless it comes with `Authorization: DPoP` and a proof "
        "(RFC 9449 §7.2)",
    ),
    "proof": Check(
        "does not require exactly one DPoP proof",
        "refuse a DPoP request without one valid `DPoP` header (RFC 9449 §4.3 check 1)",
    ),
    "jkt": Check(
        "does not compare the proof's key with the token's `cnf.jkt`",
        "compute the RFC 7638 thumbprint of the proof's `jwk` and require it to equal `cnf.jkt` "
        "(RFC 9449 §7.1)",
    ),
    "signature": Check(
        "does not verify the proof's signature",
        "verify the proof with its `jwk`, only with asymmetric algorithms, never `none` (RFC 9449 §4.3)",
    ),
    "typ": Check("does not check the proof's `typ`", "require `typ: dpop+jwt` (RFC 9449 §4.3 check 4)"),
    "htm": Check(
        "does not check the proof's `htm`", "require `htm` to equal the request's method (RFC 9449 §4.3)"
    ),
    "htu": Check(
        "does not check the proof's `htu`",
        "require `htu` to equal the request URL without query and fragment (RFC 9449 §4.3)",
    ),
    "ath": Check(
        "does not check the proof's `ath`",
        "require `ath` = base64url(SHA-256(access token)) (RFC 9449 §4.3 check 11, §7.1)",
    ),
    "jti": Check(
        "accepts a replayed proof",
        "remember each proof's `jti` for as long as its `iat` is acceptable (RFC 9449 §11.1)",
    ),
    "iat": Check(
        "accepts old proofs",
        "refuse a proof whose `iat` is more than a minute or so from your clock (RFC 9449 §4.3, §11.1)",
    ),
    "nonce": Check(
        "does not enforce the DPoP nonce it hands out",
        "refuse a proof without your current nonce with 401 `use_dpop_nonce` and a `DPoP-Nonce` "
        "header (RFC 9449 §9)",
    ),
}

CHECKS: Mapping[str, Check] = MappingProxyType(
    {
        "alg": Check(
            "does not pin the signing algorithm",
            'verify with the algorithm of the IdP\'s key only (`algorithms=["RS256"]`), never `none` '
            "or HMAC (RFC 8725 §3.1)",
        ),
        "signature": Check(
            "does not verify the signature with the IdP's keys",
            "verify every token against the issuer's JWKS before reading a claim (RFC 9068 §4)",
        ),
        "header-key": Check(
            "trusts keys named or carried by the token (`jku`, `x5u`, `jwk`, `x5c`)",
            "use only the keys at the issuer's `jwks_uri`; ignore key headers (RFC 8725 §3.10)",
        ),
        "kid": Check(
            "mishandles `kid`",
            "select the key by exact `kid` in the issuer's JWKS; never use `kid` as a path, query or "
            "command (RFC 8725 §3.10)",
        ),
        "crit": Check(
            "ignores `crit`",
            "refuse a token whose `crit` lists an extension you do not implement (RFC 7515 §4.1.11)",
        ),
        "exp": Check(
            "does not check `exp`", "refuse expired tokens, with at most a few minutes' leeway (RFC 9068 §4)"
        ),
        "acr": Check(
            "does not check the sign-in level (`acr`) a route requires",
            "compare `acr` with the route's level; answer 401 insufficient_user_authentication with "
            "`acr_values` (RFC 9470 §3)",
        ),
        "auth-time": Check(
            "does not check how old the sign-in (`auth_time`) is",
            "compare `auth_time` with the route's `max_age`; answer 401 "
            "insufficient_user_authentication with `max_age` (RFC 9470 §3)",
        ),
        "nbf": Check("does not check `nbf`", "refuse tokens whose `nbf` is in the future (RFC 7519 §4.1.5)"),
        "iat": Check("does not check `iat`", "refuse tokens issued in the future (RFC 9068 §2.2)"),
        "claim-type": Check(
            "accepts claims of the wrong JSON type",
            "require numbers for `exp`/`iat`/`nbf`, a string for `sub`, a string or array of strings for "
            "`aud` (RFC 7519 §2, §4.1)",
        ),
        "aud": Check(
            "does not check `aud` exactly",
            "require this API's own identifier in `aud`, compared exactly (RFC 9068 §4; RFC 8707)",
        ),
        "iss": Check(
            "does not compare `iss` exactly",
            "require `iss` to equal the issuer identifier character for character (RFC 9068 §4)",
        ),
        "missing-claim": Check(
            "does not require the claims of a JWT access token",
            "require `iss`, `exp`, `aud`, `sub`, `client_id`, `iat` and `jti` (RFC 9068 §2.2)",
        ),
        "scope": Check(
            "does not check the scope exactly",
            "split `scope` on spaces and require each needed scope as a whole string; answer 403 "
            "`insufficient_scope` otherwise (RFC 6750 §3.1)",
        ),
        "scope-format": Check(
            "accepts a `scope` that is not a string",
            "require `scope` to be a space-delimited string (RFC 9068 §2.2.3)",
        ),
        "nonce": Check(
            "does not check the ID token's `nonce`", "compare `nonce` with the one sent (OIDC Core §3.1.3.7)"
        ),
        "at-hash": Check(
            "does not check `at_hash`", "compare `at_hash` with the access token (OIDC Core §3.2.2.9)"
        ),
        "typ": Check(
            "does not check `typ`",
            "require `typ: at+jwt` (RFC 9068 §4), which also turns away ID, logout and DPoP tokens",
        ),
        "zip": Check(
            "accepts compressed (`zip`) JWS payloads",
            "refuse `zip` in a JWS header before inflating anything: it is defined for JWE only "
            "(RFC 7516 §4.1.3; RFC 8725 §3.6)",
        ),
        "nested": Check(
            "accepts nested tokens (`cty: JWT`)",
            "refuse `cty: JWT`: a JWT access token is a single JWS whose payload is the claims "
            "(RFC 9068 §4; RFC 7519 §5.2)",
        ),
        "typ-media-type": Check(
            "refuses `typ: application/at+jwt` (too strict)",
            "accept `at+jwt` and `application/at+jwt`, compared case-insensitively (RFC 9068 §4)",
        ),
        "aud-array": Check(
            "refuses an `aud` array that contains this API (too strict)",
            "accept `aud` as a string or an array of strings that contains this API (RFC 7519 §4.1.3)",
        ),
        "numeric-date": Check(
            "refuses a NumericDate with a fraction (too strict)",
            "accept any JSON number for `exp`/`iat`/`nbf` (RFC 7519 §2)",
        ),
        "leeway": Check(
            "allows no clock skew (too strict)",
            "allow a small leeway (30-60 s) on `nbf`/`iat`/`exp` (RFC 7519 §4.1.4, §4.1.5)",
        ),
        "jwe": Check(
            "accepts encrypted tokens without a signature", "accept only signed JWS tokens (RFC 9068 §4)"
        ),
        "act": Check(
            "accepts delegated tokens (`act`) although it allows no delegation",
            "refuse a token with an `act` claim where only the user may act (RFC 8693 §4.1)",
        ),
        "act-depth": Check(
            "does not limit the `act` chain",
            "count the nested `act` claims and refuse chains longer than the API allows (RFC 8693 §4.1)",
        ),
        "may-act": Check(
            "does not compare `act` with `may_act`",
            "when a token has `may_act`, require its `act` to be an actor it names (RFC 8693 §4.4)",
        ),
        "jag-typ": Check(
            "redeems JWTs that are not typed as ID-JAGs",
            "require `typ: oauth-id-jag+jwt` before redeeming "
            "(draft-ietf-oauth-identity-assertion-authz-grant §5.1)",
        ),
        "jag-iss": Check(
            "redeems ID-JAGs from IdPs it does not trust",
            "look the `iss` up among the trusted IdPs and verify with that IdP's keys only (RFC 7523 §3)",
        ),
        "jag-aud": Check(
            "redeems ID-JAGs issued for another authorization server",
            "require `aud` to be this server's issuer identifier (RFC 7523 §3; the ID-JAG draft §5.1)",
        ),
        "jag-client-id": Check(
            "redeems ID-JAGs issued to another client",
            "require the ID-JAG's `client_id` to be the authenticated client (the ID-JAG draft §5.1)",
        ),
        "jag-exp": Check("redeems expired ID-JAGs", "refuse an ID-JAG past its `exp` (RFC 7523 §3 item 4)"),
        "jag-resource": Check(
            "issues tokens for resources the ID-JAG does not grant",
            "require the requested `resource` to be one the ID-JAG's `resource` names, and restrict the "
            "token to it (MCP enterprise-managed authorization)",
        ),
        "revoked": Check(
            "does not notice revocation",
            "introspect tokens, or keep their lifetime short (RFC 7662)",
        ),
        "malformed": Check(
            "accepts tokens that are not a compact JWS",
            "require exactly three base64url segments (RFC 7519 §7.2)",
        ),
        "base64": Check(
            "decodes base64url leniently",
            "refuse padding and characters outside the base64url alphabet (RFC 7515 §2)",
        ),
        "json": Check(
            "parses token JSON leniently",
            "require UTF-8 JSON with nothing after it (RFC 7519 §7.2; RFC 8725 §3.7)",
        ),
        "not-object": Check(
            "accepts a payload that is not a JSON object", "require a JSON object (RFC 7519 §7.2)"
        ),
        "duplicate-key": Check(
            "accepts duplicate JSON member names",
            "refuse headers and claims that repeat a name (RFC 7515 §4; RFC 7519 §4)",
        ),
        "size": Check(
            "accepts very large tokens", "refuse tokens over a size limit, e.g. 4 KB (RFC 8725bis §3.13)"
        ),
        **{f"dpop-{name}": check for name, check in _DPOP.items()},
    }
)
