"""check-api's ``jwks`` group: short key-rollover sequences, not single tokens.

The OpenID RP conformance tests check that a relying party refetches the JWKS when a token
names a ``kid`` it has not seen, and stops trusting a key the issuer no longer publishes. Each
sequence changes the IdP's keys, sends one token, and puts the keys back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from .api_send import BEARER_ONLY, ApiTarget, Sender, send_case
from .case import Case

if TYPE_CHECKING:
    from ..server import MockIdP

ROLLOVER_SPEC = "OIDC Core §10.1.1; RFC 9068 §4; RFC 7517 §4.5"

Mint = Callable[[], str]
#: a token for the flood: ``defects`` applied (random unknown kid, attacker signature)
MintBroken = Callable[[tuple[str, ...]], str]

#: tokens with random unknown kids sent in a row, and the JWKS fetches they may cause at most
FLOOD = 50
MAX_FETCHES = 5
FLOOD_DEFECTS = ("kid-unknown", "signature-unknown-key")
FLOOD_NAME = "jwks-unknown-kid-flood"


def jwks_cases(
    idp: MockIdP,
    target: ApiTarget,
    mint: Mint,
    mint_broken: MintBroken,
    *,
    sender: Sender | None = None,
    schemes: frozenset[str] = BEARER_ONLY,
) -> list[Case]:
    """A token signed by a key published just before (accept), one whose key was just
    withdrawn (refuse), and a flood of unknown kids (refuse, without a JWKS fetch for each).
    The IdP's keys are back to the first one afterwards. ``sender``/``schemes``: how tokens
    are presented and refused (a DPoP run)."""
    how = _Delivery(sender, schemes)
    keys = idp.state.keys
    try:
        cases = [_new_kid(idp, target, mint, how), _removed_key(idp, target, mint, how)]
        cases.append(_broken_key_beside(idp, target, mint, how))
    finally:
        keys.reset()
        idp.state.misbehaviour.set(jwks_broken_key=False)
    cases.append(_unknown_kid_flood(idp, target, mint_broken, how))
    return cases


@dataclasses.dataclass(frozen=True, slots=True)
class _Delivery:
    sender: Sender | None
    schemes: frozenset[str]


def _jwks_fetches(idp: MockIdP) -> int:
    return sum(1 for r in idp.state.journal.snapshot() if r.endpoint == "jwks")


def _unknown_kid_flood(idp: MockIdP, target: ApiTarget, mint_broken: MintBroken, how: _Delivery) -> Case:
    """``FLOOD`` forged tokens with random kids: each refused, at most ``MAX_FETCHES`` fetches."""
    before = _jwks_fetches(idp)
    spec = ROLLOVER_SPEC + "; RFC 8725 §3.10"
    first: Case | None = None
    for _ in range(FLOOD):
        token = mint_broken(FLOOD_DEFECTS)
        case = send_case(
            target,
            FLOOD_NAME,
            token,
            401,
            "invalid_token",
            "must",
            spec,
            cause="signature",
            sender=how.sender,
            schemes=how.schemes,
        )
        if case.result in ("accepted", "crashed"):
            return case
        if first is None or (first.passed and not case.passed):
            first = case  # the first refusal that differs, else the first one
    fetches = _jwks_fetches(idp) - before
    base = first or Case(name=FLOOD_NAME, passed=True, spec=spec)
    if fetches <= MAX_FETCHES:
        note = base.detail or f"{fetches} JWKS fetches for {FLOOD} unknown kids"
        return dataclasses.replace(base, detail=note)
    detail = (
        f"{FLOOD} tokens with unknown kids caused {fetches} JWKS fetches (at most {MAX_FETCHES} "
        "expected): anyone can make the API hammer the IdP"
    )
    return dataclasses.replace(
        base, passed=False, outcome="refused-differently", detail=detail, cause="jwks-flood"
    )


def _must_verify(target: ApiTarget, name: str, token: str, spec: str, why: str, how: _Delivery) -> Case:
    """A token the API must accept (a ``should``): a refusal is ``refused-differently``, saying ``why``."""
    case = send_case(target, name, token, None, None, "should", spec, cause="jwks-refetch", sender=how.sender)
    case = dataclasses.replace(case, expected_status=200)
    if case.result != "failed":
        return case
    return dataclasses.replace(case, outcome="refused-differently", detail=f"refused with {case.got} {why}")


def _new_kid(idp: MockIdP, target: ApiTarget, mint: Mint, how: _Delivery) -> Case:
    """The IdP rotates (the old key stays published): the API must fetch the JWKS again."""
    idp.state.keys.rotate(keep=1)
    why = (
        "a token signed by a key published just before: the API does not refetch the JWKS for an "
        "unknown kid, so every key rollover locks callers out"
    )
    return _must_verify(target, "jwks-new-kid", mint(), ROLLOVER_SPEC, why, how)


def _broken_key_beside(idp: MockIdP, target: ApiTarget, mint: Mint, how: _Delivery) -> Case:
    """The JWKS gains one unparseable key next to a good new one: the API must skip the bad key."""
    idp.state.misbehaviour.set(jwks_broken_key=True)
    idp.state.keys.rotate(keep=1)  # a new kid, so the API fetches the JWKS holding the broken key
    why = (
        "a token signed by a good key because the JWKS also held one it could not parse: one bad "
        "key at the IdP locks every caller out (RFC 7517 §5: skip it)"
    )
    return _must_verify(target, "jwks-broken-key", mint(), ROLLOVER_SPEC + "; RFC 7517 §5", why, how)


def _removed_key(idp: MockIdP, target: ApiTarget, mint: Mint, how: _Delivery) -> Case:
    """A key is published, signs a token, and is withdrawn before the API ever sees it."""
    keys = idp.state.keys
    first = keys.current
    withdrawn = keys.add()
    keys.activate(withdrawn.kid)
    token = mint()
    keys.activate(first.kid)
    keys.retire(withdrawn.kid)
    case = send_case(
        target,
        "jwks-removed-key",
        token,
        401,
        "invalid_token",
        "must",
        ROLLOVER_SPEC,
        cause="jwks-removed",
        sender=how.sender,
        schemes=how.schemes,
    )
    if case.result == "accepted":
        detail = (
            "accepted a token signed by a key the IdP no longer publishes: a withdrawn (perhaps "
            "compromised) key keeps opening the API"
        )
        case = dataclasses.replace(case, detail=f"accepted with {case.status}: {detail}")
    return case
