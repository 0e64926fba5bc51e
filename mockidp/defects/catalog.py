"""The catalog itself: every defect by name, and the checks that names exist and combine.

Kept apart from the package's ``__init__`` (which mints with a whole IdP) so the defect plan and
the IdP state can check names without importing the minting side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from ..errors import MockIdPError, did_you_mean
from . import audience, claims, delegation, header, id_jag, positive, signature, structure, time, typ
from .mint import resolve
from .model import Defect, TokenKind

CATALOG: Mapping[str, Defect] = MappingProxyType(
    {
        d.name: d
        for module in (
            signature,
            header,
            time,
            audience,
            claims,
            typ,
            structure,
            delegation,
            id_jag,
            positive,
        )
        for d in module.DEFECTS
    }
)


#: entries ``mockidp check-api`` sends only when named, and why: a correct API has no way to
#: notice them unless it enforces a policy the run cannot know about
NOT_SENT_BY_DEFAULT: Mapping[str, str] = MappingProxyType(
    {
        "revoked": "a self-contained JWT cannot show revocation; the API would need introspection "
        "credentials",
        "acr-too-weak": "only an API that enforces step-up (RFC 9470) can notice it",
        "auth-time-too-old": "only an API that enforces step-up (RFC 9470) with max_age can notice it",
        "roles-not-array": "only an API that authorizes on a roles claim can notice it",
        "act-not-allowed": "a plain API may accept delegated tokens; sent with `--delegation none`",
        "act-chain-too-deep": "only an API that limits delegation chains can notice it; sent with "
        "`--delegation max-depth=N`",
        "may-act-violated": "only an API that enforces delegation can notice it; sent with "
        "`--delegation max-depth=N`",
        "act-within-policy": "a positive control for an API that allows delegation; sent with "
        "`--delegation max-depth=N`",
    }
)

#: what ``check-api --delegation`` adds for each policy an API can declare
DELEGATION_POLICIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "none": ("act-not-allowed",),
        "max-depth": ("act-chain-too-deep", "may-act-violated", "act-within-policy"),
    }
)

#: the entries ``mockidp check-api`` sends by default, in catalog order: every one that applies
#: to access tokens, less :data:`NOT_SENT_BY_DEFAULT` (a run also skips the few that need
#: another signing algorithm than the IdP's: ``requires_alg``)
CHECK_API_DEFAULTS: tuple[str, ...] = tuple(
    name for name, d in CATALOG.items() if "access" in d.applies_to and name not in NOT_SENT_BY_DEFAULT
)


def get_defect(name: str) -> Defect:
    """The catalog entry called ``name`` (a :class:`MockIdPError` names the unknown one)."""
    try:
        return CATALOG[name]
    except KeyError:
        guess = did_you_mean(name, CATALOG)
        raise MockIdPError(f"unknown defect {name!r}{guess}; `mockidp defects` lists them") from None


def defect_names(kind: TokenKind | None = None) -> list[str]:
    """Every defect name in catalog order, or only those that apply to ``kind`` tokens."""
    return [n for n, d in CATALOG.items() if kind is None or kind in d.applies_to]


def resolve_defects(names: Sequence[str], kind: TokenKind) -> tuple[Defect, ...]:
    """Check that ``names`` exist, apply to ``kind`` tokens and can be combined."""
    return resolve(CATALOG, names, kind)
