"""Hypothesis strategies for mockidp: tokens (valid, and broken by drawn defects), claims,
clients and users. An optional import: it needs only ``hypothesis``.

House style: plural nouns, defaults everywhere, strategies (not values) as arguments. Defect
sets are lists drawn from the catalog in its order, so a failing example shrinks toward a
valid token plus the single simplest defect (``alg-none`` first).

    @given(token=tokens(idp, defects=defect_sets(min_size=1)))
    def test_api_rejects(token): assert call_api(token.value).status_code == token.expected_status
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise ImportError("pytest_mockidp.strategies needs Hypothesis: pip install hypothesis") from exc

from mockidp import ClientConfig, MockIdP, MockIdPError, UserConfig
from mockidp.defects import CATALOG, POLICY_DEFECTS, TokenKind, resolve_defects

#: claims mockidp sets itself; ``claims()`` never draws them
REGISTERED_CLAIMS = frozenset(
    {"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scope", "azp", "nonce", "auth_time"}
    | {"at_hash", "c_hash", "cnf", "act", "may_act", "typ", "sid", "events"}
)

_NAMES = st.from_regex(r"[a-z][a-z0-9]{0,7}(-[a-z0-9]{1,6}){0,2}", fullmatch=True)
_CLAIM_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True).filter(
    lambda name: name not in REGISTERED_CLAIMS
)
_SCOPES = st.from_regex(r"[a-z]{1,8}(:[a-z]{1,8})?", fullmatch=True)
_JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
_SECRETS = st.none() | st.text(min_size=8, max_size=24)
_SCOPE_LISTS = st.lists(_SCOPES, max_size=3, unique=True)
_NO_AUDIENCES: st.SearchStrategy[Sequence[str]] = st.just(())
_PASSWORDS = st.text(min_size=1, max_size=16)
_DISPLAY_NAMES = st.text(min_size=1, max_size=24)
_NO_DEFECTS: st.SearchStrategy[Sequence[str]] = st.just(())
_DEFAULT: st.SearchStrategy[Any] = st.just(None)
_NO_CLAIMS: st.SearchStrategy[Mapping[str, Any]] = st.just({})


@dataclass(frozen=True, slots=True)
class DrawnToken:
    """A minted access token and how it was made; ``str(token)`` is the compact token."""

    value: str
    defects: tuple[str, ...]
    audience: str | Sequence[str] | None
    scope: str | None

    def __str__(self) -> str:
        return self.value

    @property
    def valid(self) -> bool:
        """No defect, or positive controls only (valid tokens in forms a correct API accepts)."""
        return all(CATALOG[name].positive for name in self.defects)

    @property
    def expected_status(self) -> int:
        """What a correct API answers: 200, else 401 unless every defect is a scope problem."""
        statuses = {CATALOG[name].expected_status for name in self.defects} - {200}
        if not statuses:  # none, or positive controls only: a valid token
            return 200
        return 401 if 401 in statuses else 403

    @property
    def expected_error(self) -> str | None:
        """``invalid_token`` wins; alone, a step-up defect is ``insufficient_user_authentication``."""
        status = self.expected_status
        if status == 200:
            return None
        errors = {CATALOG[n].expected_error for n in self.defects if CATALOG[n].expected_status == status}
        return "invalid_token" if "invalid_token" in errors or len(errors) != 1 else errors.pop()


def defects(
    kind: TokenKind = "access",
    *,
    groups: Sequence[str] | None = None,
    severities: Sequence[str] = ("must", "should"),
    policy: bool = False,
) -> st.SearchStrategy[str]:
    """Names of catalog defects that apply to ``kind`` tokens, in catalog order.

    ``policy`` adds the defects only an API with that policy notices (``acr-too-weak``,
    ``auth-time-too-old``, ``roles-not-array``: step-up and role checks). The ``positive``
    group (valid tokens a correct API must accept) is drawn only when ``groups`` names it.
    """
    names = [
        n
        for n, d in CATALOG.items()
        if kind in d.applies_to
        and (groups is None or d.group in groups)
        and d.severity in severities
        and (policy or n not in POLICY_DEFECTS)
        # positive controls are valid tokens: drawn only when their group is asked for
        and (not d.positive or (groups is not None and "positive" in groups))
    ]
    if not names:
        raise MockIdPError("no defect matches those groups and severities")
    return st.sampled_from(names)


def defect_sets(
    names: st.SearchStrategy[str] | None = None,
    *,
    kind: TokenKind = "access",
    min_size: int = 0,
    max_size: int = 2,
) -> st.SearchStrategy[tuple[str, ...]]:
    """Combinations of defects that can be applied together (shrinks toward fewer, simpler)."""

    def compatible(chosen: list[str]) -> bool:
        try:
            resolve_defects(chosen, kind)
        except MockIdPError:
            return False
        return True

    source = defects(kind) if names is None else names
    drawn = st.lists(source, min_size=min_size, max_size=max_size, unique=True)
    return drawn.filter(compatible).map(tuple)


def claims(
    names: st.SearchStrategy[str] = _CLAIM_NAMES,
    values: st.SearchStrategy[Any] | None = None,
    *,
    max_size: int = 4,
) -> st.SearchStrategy[dict[str, Any]]:
    """Extra (private) claims for ``issue_token(claims=...)``: JSON values, never registered names."""
    json_values = values or st.recursive(
        _JSON_SCALARS,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=6,
    )
    return st.dictionaries(names, json_values, max_size=max_size)


@st.composite
def clients(
    draw: st.DrawFn,
    client_ids: st.SearchStrategy[str] = _NAMES,
    secrets: st.SearchStrategy[str | None] = _SECRETS,
    scopes: st.SearchStrategy[list[str]] = _SCOPE_LISTS,
    audiences: st.SearchStrategy[Sequence[str]] = _NO_AUDIENCES,
) -> ClientConfig:
    """Registrable clients: confidential ones use client credentials, public ones the code flow."""
    secret = draw(secrets)
    public = secret is None
    return ClientConfig(
        client_id=draw(client_ids),
        client_secret=secret,
        grant_types=("authorization_code", "refresh_token") if public else ("client_credentials",),
        redirect_uris=("http://127.0.0.1/callback",) if public else (),
        scopes=tuple(draw(scopes)),
        audiences=tuple(draw(audiences)),
    )


@st.composite
def users(
    draw: st.DrawFn,
    subs: st.SearchStrategy[str] = _NAMES,
    passwords: st.SearchStrategy[str] = _PASSWORDS,
    names: st.SearchStrategy[str] = _DISPLAY_NAMES,
) -> UserConfig:
    """Users who can sign in (username = sub), with a name and a matching e-mail address."""
    sub = draw(subs)
    claims: Mapping[str, Any] = {"name": draw(names), "email": f"{sub}@example.test", "email_verified": True}
    return UserConfig(sub=sub, username=sub, password=draw(passwords), claims=claims)


@st.composite
def tokens(
    draw: st.DrawFn,
    idp: MockIdP,
    defects: st.SearchStrategy[Sequence[str]] = _NO_DEFECTS,
    *,
    client_ids: st.SearchStrategy[str | None] = _DEFAULT,
    subjects: st.SearchStrategy[str | None] = _DEFAULT,
    audiences: st.SearchStrategy[str | Sequence[str] | None] = _DEFAULT,
    scopes: st.SearchStrategy[str | None] = _DEFAULT,
    extra_claims: st.SearchStrategy[Mapping[str, Any]] = _NO_CLAIMS,
) -> DrawnToken:
    """Access tokens minted by ``idp`` (valid by default), broken by the drawn ``defects``."""
    chosen = tuple(draw(defects))
    audience, scope = draw(audiences), draw(scopes)
    value = idp.issue_token(
        client_id=draw(client_ids),
        subject=draw(subjects),
        audience=audience,
        scope=scope,
        claims=draw(extra_claims),
        defects=chosen,
    )
    return DrawnToken(value, chosen, audience, scope)


def bad_tokens(idp: MockIdP, *, max_defects: int = 2, **options: Any) -> st.SearchStrategy[DrawnToken]:
    """Tokens with at least one defect; failures shrink toward a valid token plus one defect."""
    return tokens(idp, defect_sets(min_size=1, max_size=max_defects), **options)


__all__ = [
    "REGISTERED_CLAIMS",
    "DrawnToken",
    "bad_tokens",
    "claims",
    "clients",
    "defect_sets",
    "defects",
    "tokens",
    "users",
]
