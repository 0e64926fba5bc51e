"""Claim and scope defects: required claims missing, wrong shapes, too little scope.

The insufficient-scope entry is the one a correct resource server answers with 403
``insufficient_scope`` rather than 401 (RFC 6750 §3.1).
"""

from __future__ import annotations

from typing import Any

from ..errors import MockIdPError
from ..tokens import token_hash
from .edits import drop_claim, set_claim
from .model import ACCESS, BOTH, ID, Defect, MintContext, TokenKind

#: a missing claim that lets in nobody who was not meant to get in: only the form is wrong
_FORM_ONLY = {
    "sub": "code that reads `sub` may crash or mix up callers",
    "iat": "only the form is wrong",
    "jti": "replay detection by `jti` has nothing to work with",
    "client_id": "the API cannot tell which client called",
}


def _missing(name: str, applies_to: tuple[TokenKind, ...] = BOTH) -> Defect:
    claim = name.replace("-", "_")
    spec = "RFC 9068 §2.2" + ("; OIDC Core §2" if "id" in applies_to else "")
    form = _FORM_ONLY.get(claim)
    return Defect(
        severity="should" if form else "must",
        consequence=f"{_NONE}{form}" if form else "a leaked or stolen token never expires",
        name=f"{name}-missing",
        group="claims",
        description=f"no `{claim}` claim",
        spec=spec,
        applies_to=applies_to,
        check="missing-claim",
        claims=drop_claim(claim),
        touches=frozenset({f"claim:{claim}"}),
    )


def _required_scope(ctx: MintContext) -> tuple[str, ...]:
    if not ctx.scope:
        raise MockIdPError("this defect needs the scope the target API requires; pass scope=...")
    return ctx.scope


#: a real, unrelated scope for a client that could have had no other one
UNRELATED_SCOPE = "mockidp:unrelated"


def _insufficient(claims: dict[str, Any], ctx: MintContext) -> str:
    """Another scope the client could have had, never an empty one.

    An API that answers "no scope at all" with 401 would otherwise be judged on the wrong case.
    """
    required = set(_required_scope(ctx))
    others = [s for s in ctx.other_scopes if s not in required and s != "openid"]
    return " ".join(others) if others else UNRELATED_SCOPE


def _lookalike(claims: dict[str, Any], ctx: MintContext) -> str:
    """Each needed scope with a suffix: ``items:read`` -> ``items:readwrite`` (substring, prefix)."""
    return " ".join(f"{s}write" for s in _required_scope(ctx))


def _comma(claims: dict[str, Any], ctx: MintContext) -> str:
    scope = _required_scope(ctx)
    return ",".join(scope) if len(scope) > 1 else f"{scope[0]},"


def _wrong_nonce(claims: dict[str, Any], ctx: MintContext) -> str:
    return f"{claims.get('nonce', 'mockidp')}-wrong"


def _wrong_at_hash(claims: dict[str, Any], ctx: MintContext) -> str:
    return token_hash("not-the-access-token", ctx.key.alg)


#: how old ``auth-time-too-old`` makes the sign-in: past any step-up ``max_age`` in practice
STALE_SIGN_IN = 30 * 86400


def _weaker_acr(claims: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
    """``acr`` one the API's requirement cannot accept: the IdP's weakest level below the
    token's, else ``0`` (OIDC Core 2: does not meet ISO/IEC 29115 level 1); ``amr`` to match."""
    levels = list(ctx.idp.acr_levels)
    have = claims.get("acr")
    weak = levels[0] if levels and have in levels and have != levels[0] else "0"
    return {**claims, "acr": weak, "amr": [weak] if weak != "0" else ["pwd"]}


def _stale_auth_time(claims: dict[str, Any], ctx: MintContext) -> int:
    return ctx.now - STALE_SIGN_IN


def _roles_string(claims: dict[str, Any], ctx: MintContext) -> str:
    roles = claims.get("roles")
    if isinstance(roles, list) and roles:
        return " ".join(str(r) for r in roles)
    return "admin"


_SCOPE = frozenset({"claim:scope"})
_NONE = "none by itself: the trusted IdP minted it for this API; "
#: defects only an API with that policy can notice (step-up, role checks): run them by name
POLICY_DEFECTS = frozenset(
    {
        "acr-too-weak",
        "auth-time-too-old",
        "roles-not-array",
        # delegation policy (mockidp.defects.delegation): only an API that declares one can judge them
        "act-not-allowed",
        "act-chain-too-deep",
        "may-act-violated",
        "act-within-policy",
    }
)

DEFECTS: tuple[Defect, ...] = (
    _missing("exp"),
    _missing("sub"),
    _missing("iat"),
    _missing("jti", ACCESS),
    _missing("client-id", ACCESS),
    Defect(
        name="sub-not-string",
        group="claims",
        description="`sub` is a JSON object instead of a string",
        spec="RFC 7519 §4.1.2",
        severity="should",
        check="claim-type",
        consequence=f"{_NONE}code that compares `sub` as a string may mix up callers",
        claims=set_claim("sub", lambda claims, ctx: {"id": claims.get("sub")}),
        touches=frozenset({"claim:sub"}),
    ),
    Defect(
        name="scope-insufficient",
        group="claims",
        description="a valid token without the scope the API requires",
        spec="RFC 6750 §3.1; OAuth 2.1 §5.3.2",
        expected_status=403,
        expected_error="insufficient_scope",
        applies_to=ACCESS,
        check="scope",
        consequence="a token granted for another purpose (another scope) does what it was not granted",
        claims=set_claim("scope", _insufficient),
        touches=_SCOPE,
    ),
    Defect(
        name="scope-lookalike",
        group="claims",
        description="the only scope starts with the needed one (`items:readwrite` for `items:read`)",
        spec="RFC 6750 §3.1; OAuth 2.1 §1.4.1 (space-delimited, exact strings)",
        expected_status=403,
        expected_error="insufficient_scope",
        applies_to=ACCESS,
        check="scope",
        consequence=(
            "a token for another scope passes a substring or prefix check "
            "(`'items:read' in scope`, `startswith`)"
        ),
        claims=set_claim("scope", _lookalike),
        touches=_SCOPE,
    ),
    Defect(
        name="scope-array",
        group="claims",
        description="`scope` is a JSON array instead of a space-delimited string",
        spec="RFC 9068 §2.2.3; RFC 8693 §4.2",
        applies_to=ACCESS,
        severity="should",
        check="scope-format",
        consequence=f"{_NONE}only the format of the granted scopes is wrong",
        claims=set_claim("scope", lambda claims, ctx: list(_required_scope(ctx))),
        touches=_SCOPE,
    ),
    Defect(
        name="scope-comma-separated",
        group="claims",
        description="`scope` separates (or ends) scopes with commas instead of spaces",
        spec="OAuth 2.1 §1.4.1; RFC 9068 §2.2.3",
        expected_status=403,
        expected_error="insufficient_scope",
        severity="should",
        applies_to=ACCESS,
        check="scope",
        consequence="scopes are split on commas, so the API reads scopes the issuer did not write",
        claims=set_claim("scope", _comma),
        touches=_SCOPE,
    ),
    Defect(
        name="nonce-wrong",
        group="claims",
        description="the ID token's `nonce` is not the one the client sent",
        spec="OIDC Core §3.1.3.7 (11)",
        applies_to=ID,
        check="nonce",
        consequence="an ID token from another sign-in is replayed to sign the user in",
        claims=set_claim("nonce", _wrong_nonce),
        touches=frozenset({"claim:nonce"}),
    ),
    Defect(
        name="nonce-missing",
        group="claims",
        description="the ID token has no `nonce` although the client sent one",
        spec="OIDC Core §2, §3.1.3.7 (11)",
        applies_to=ID,
        check="nonce",
        consequence="an ID token injected from another sign-in is accepted (no replay protection)",
        claims=drop_claim("nonce"),
        touches=frozenset({"claim:nonce"}),
    ),
    Defect(
        name="at-hash-wrong",
        group="claims",
        description=(
            "the ID token's `at_hash` does not match the access token issued with it "
            "(in the code flow a client MAY check it)"
        ),
        spec="OIDC Core §3.1.3.8, §3.2.2.9",
        severity="should",
        applies_to=ID,
        check="at-hash",
        consequence="an access token swapped in the response goes unnoticed",
        claims=set_claim("at_hash", _wrong_at_hash),
        touches=frozenset({"claim:at_hash"}),
    ),
    Defect(
        name="acr-too-weak",
        group="claims",
        description=(
            "`acr` names a weaker sign-in than the API requires (for APIs that enforce step-up; "
            "run it by name)"
        ),
        spec="RFC 9470 §3, §6; OIDC Core §2 (acr)",
        expected_error="insufficient_user_authentication",
        applies_to=ACCESS,
        check="acr",
        consequence="a token from a password-only sign-in reaches what needs a stronger one (MFA bypass)",
        claims=_weaker_acr,
        touches=frozenset({"claim:acr", "claim:amr"}),
    ),
    Defect(
        name="auth-time-too-old",
        group="claims",
        description=(
            "`auth_time` is 30 days old, past the API's `max_age` (for APIs that enforce step-up; "
            "run it by name)"
        ),
        spec="RFC 9470 §3, §6; RFC 9068 §2.2.1",
        expected_error="insufficient_user_authentication",
        applies_to=ACCESS,
        check="auth-time",
        consequence="a sign-in from weeks ago reaches what needs a recent one (re-authentication skipped)",
        claims=set_claim("auth_time", _stale_auth_time),
        touches=frozenset({"claim:auth_time"}),
    ),
    Defect(
        name="roles-not-array",
        group="claims",
        description=(
            "the custom `roles` claim is a string instead of an array of strings (an API that "
            "authorizes on roles; run it by name)"
        ),
        spec="RFC 7519 §4.3 (private claims); RFC 9068 §2.2.3.1; RFC 7643 §4.1.2 (roles, multi-valued)",
        severity="should",
        applies_to=ACCESS,
        check="claim-type",
        consequence=f"{_NONE}`'admin' in roles` on a string becomes a substring test",
        claims=set_claim("roles", _roles_string),
        touches=frozenset({"claim:roles"}),
    ),
)
