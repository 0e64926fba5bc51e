"""The shape of one catalog entry, and what its transformation may see while a token is minted.

A defect changes a token in up to five places, in pipeline order: ``prepare`` (IdP state, e.g.
publish an extra key), ``claims`` and ``header`` (edits before signing), ``encode`` (the JSON
text of the segments), ``sign`` (the signature bytes), ``rewrite`` (the finished compact token)
and ``issued`` (after the IdP has remembered the token, e.g. revoke it). ``touches`` names what
it changes; two defects that touch the same thing cannot be combined.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from ..keys import KeyRing, SigningKey
    from .attacker import AttackerKeys

Group = Literal[
    "signature",
    "header",
    "time",
    "audience",
    "claims",
    "type",
    "structure",
    "delegation",
    "id-jag",
    "positive",
]
TokenKind = Literal["access", "id", "id-jag"]
Severity = Literal["must", "should"]

#: a CVE identifier, as the spec clauses and consequences cite them
CVE = re.compile(r"CVE-\d{4}-\d{4,}")

#: the groups in catalog order: the ``Group`` literal's own order
GROUPS: tuple[Group, ...] = get_args(Group)
BOTH: tuple[TokenKind, ...] = ("access", "id")
ACCESS: tuple[TokenKind, ...] = ("access",)
ID: tuple[TokenKind, ...] = ("id",)
#: an ID-JAG, judged by the resource authorization server that redeems it
ID_JAG: tuple[TokenKind, ...] = ("id-jag",)


@dataclass(frozen=True, slots=True, kw_only=True)
class MintingIdP:
    """What a transformation may see and touch of the IdP minting the token, and nothing more.

    Issuance builds one from the IdP's state for every broken token
    (:func:`mockidp.issuance.minting_idp`); the defects never hold the state, its store or its
    config (tests/defects/test_defects_mint_context.py checks that this package imports none).
    """

    issuer: str
    #: the IdP's signing keys: tokens are signed with the current one, and a defect may
    #: publish a second key (``prepare``)
    keys: KeyRing
    #: the attacker's own keys and certificates, never the IdP's key material
    attacker: AttackerKeys
    #: the IdP's sign-in levels (``acr`` values), weakest first
    acr_levels: tuple[str, ...]
    #: epoch seconds on the IdP's clock
    now: Callable[[], float]
    #: the audiences of the registered APIs
    api_audiences: Callable[[], Iterable[str]]
    #: the scopes a client is registered with (empty for an unknown client)
    client_scopes: Callable[[str], tuple[str, ...]]
    #: whether the IdP remembers the token with this ``jti``
    remembers: Callable[[str], bool]
    #: revoke the remembered token with this ``jti``
    revoke: Callable[[str], object]


@dataclass(slots=True, kw_only=True)
class MintContext:
    """What a transformation may read: the token's target and the IdP minting it (``idp``).

    ``audiences`` and ``scope`` are what the target requires (for an ID token: the client).
    """

    idp: MintingIdP
    kind: TokenKind
    issuer: str
    client_id: str
    audiences: tuple[str, ...]
    scope: tuple[str, ...]
    #: scopes the client could also have had (an insufficient-scope token carries these)
    other_scopes: tuple[str, ...] = ()
    now: int

    @property
    def key(self) -> SigningKey:
        """The key a well-formed token would be signed with (read late: ``prepare`` may rotate)."""
        return self.idp.keys.current


ClaimEdit = Callable[[dict[str, Any], MintContext], dict[str, Any]]
HeaderEdit = Callable[[dict[str, Any], MintContext], dict[str, Any]]
#: header, claims -> the raw bytes of the header and payload segments
Encoder = Callable[[dict[str, Any], dict[str, Any], MintContext], tuple[bytes, bytes]]
#: signing input, header -> signature bytes
Signer = Callable[[bytes, dict[str, Any], MintContext], bytes]
Rewrite = Callable[[str, MintContext], str]
Hook = Callable[[MintContext], None]
IssuedHook = Callable[[MintContext, dict[str, Any]], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Defect:
    """One named way a token is broken, with the reaction a correct validator shows."""

    name: str
    group: Group
    description: str
    spec: str
    #: 200 (with ``expected_error`` "") for a positive control: a token a correct API accepts
    expected_status: int = 401
    expected_error: str = "invalid_token"
    severity: Severity = "must"
    applies_to: tuple[TokenKind, ...] = BOTH
    #: the validation step that must fail (the reference validator's reason code); findings
    #: are grouped by it, with the fix hint in :mod:`mockidp.defects.checks`
    check: str
    #: one line: what an attacker gains when an API accepts the token (and the usual culprit)
    consequence: str = ""
    #: the signing algorithm of the IdP for which the defect is meaningful (None: any)
    requires_alg: str | None = None
    prepare: Hook | None = None
    claims: ClaimEdit | None = None
    header: HeaderEdit | None = None
    encode: Encoder | None = None
    sign: Signer | None = None
    rewrite: Rewrite | None = None
    issued: IssuedHook | None = None
    touches: frozenset[str] = field(default_factory=frozenset)

    @property
    def positive(self) -> bool:
        """A positive control: the token is valid and must be accepted."""
        return self.expected_status == 200

    @property
    def cves(self) -> tuple[str, ...]:
        """The CVEs this entry reproduces, as cited in its spec clause and consequence."""
        return tuple(dict.fromkeys(CVE.findall(f"{self.spec} {self.consequence}")))

    @property
    def tags(self) -> tuple[str, ...]:
        """Labels to select entries by (``check-api --tag``): ``cve`` when it cites a CVE."""
        return ("cve",) if self.cves else ()

    def conflicts(self) -> frozenset[str]:
        """Everything this defect changes, including whole pipeline stages it replaces."""
        stages = {s for s in ("encode", "sign", "rewrite") if getattr(self, s) is not None}
        return self.touches | stages

    def summary(self) -> dict[str, Any]:
        """The public, JSON-ready description (``mockidp defects --json``), in a fixed key order."""
        return {
            "name": self.name,
            "group": self.group,
            "description": self.description,
            "spec": self.spec,
            "expected_status": self.expected_status,
            "expected_error": self.expected_error,
            "severity": self.severity,
            "applies_to": list(self.applies_to),
            "check": self.check,
            "consequence": self.consequence,
            "requires_alg": self.requires_alg,
            "cves": list(self.cves),
        }
