"""The defect pipeline sees a narrow ``MintingIdP`` (keys, the attacker, lookups), never the state.

Issue 10: defects used to receive the whole ``IdPState``. Now issuance hands them a frozen
``MintingIdP``; these tests pin what it holds, check that no module of ``mockidp/defects``
imports the state or anything that holds it, and mint every catalog entry against a
``MintingIdP`` built from plain parts, with no IdP at all.
"""

from __future__ import annotations

import ast
import dataclasses
import time
from pathlib import Path

import jwt
import pytest

import mockidp.defects
from mockidp.defects import CATALOG, MintingIdP, mint_token
from mockidp.defects.attacker import AttackerKeys
from mockidp.keys import KeyRing
from mockidp.tokens import ACCESS_TOKEN_TYP, access_token_claims, id_token_claims

PACKAGE = Path(mockidp.defects.__file__).parent
#: the IdP's state and every module that holds or serves it
BEYOND = (
    "mockidp.state",
    "mockidp.store",
    "mockidp.grants",
    "mockidp.issuance",
    "mockidp.server",
    "mockidp.runtime",
    "mockidp.flows",
    "mockidp.web",
    "mockidp.resources",
    "mockidp.conformance",
)
ISSUER = "http://127.0.0.1:9400"


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, lazy and ``TYPE_CHECKING`` imports included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ["mockidp", "defects"][: max(0, 3 - node.level)] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_no_defect_module_imports_the_state() -> None:
    reached = {
        f"{path.name}: {name}"
        for path in sorted(PACKAGE.glob("*.py"))
        for name in imported(path)
        if any(name == b or name.startswith(f"{b}.") for b in BEYOND)
    }
    assert reached == set()


def test_only_the_plan_reads_the_config() -> None:
    """The plan checks ``token_defects`` against the catalog; no transformation sees the config."""
    readers = {
        p.name for p in PACKAGE.glob("*.py") if any(n.startswith("mockidp.config") for n in imported(p))
    }
    assert readers <= {"plan.py"}


def test_minting_idp_holds_only_what_defects_need() -> None:
    assert MintingIdP.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert [f.name for f in dataclasses.fields(MintingIdP)] == [
        "issuer",
        "keys",
        "attacker",
        "acr_levels",
        "now",
        "api_audiences",
        "client_scopes",
        "remembers",
        "revoke",
    ]


def test_issuance_builds_it_from_the_state() -> None:
    from mockidp import MockIdP
    from mockidp.issuance import minting_idp

    config = {"acr_levels": ["pwd", "mfa"], "apis": [{"audience": "api-a", "scopes": ["a:read"]}]}
    with MockIdP(config) as idp:
        idp.add_client(client_id="app", client_secret="s", scopes=["a:read"], audiences=["api-a"])
        narrow = minting_idp(idp.state)
        assert narrow.issuer == idp.issuer
        assert narrow.keys is idp.state.keys
        assert narrow.acr_levels == ("pwd", "mfa")
        assert list(narrow.api_audiences()) == ["api-a"]
        assert narrow.client_scopes("app") == ("a:read",)
        assert narrow.client_scopes("nobody") == ()
        token = idp.issue_token(client_id="app", audience="api-a", scope="a:read")
        jti = jwt.decode(token, options={"verify_signature": False})["jti"]
        assert narrow.remembers(jti)
        assert not narrow.remembers("unknown")


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_defect_mints_against_plain_parts(name: str) -> None:
    """No catalog entry needs more than a ``MintingIdP``: here one with no IdP behind it."""
    defect = CATALOG[name]
    revoked: list[str] = []
    keys = KeyRing(defect.requires_alg or "RS256")
    idp = MintingIdP(
        issuer=ISSUER,
        keys=keys,
        attacker=AttackerKeys(),
        acr_levels=("pwd", "mfa"),
        now=time.time,
        api_audiences=lambda: ("api-a", "api-b"),
        client_scopes=lambda client_id: ("a:read", "a:write"),
        remembers=lambda jti: True,
        revoke=revoked.append,
    )
    now = time.time()
    for kind in defect.applies_to:
        if kind == "access":
            claims = access_token_claims(
                issuer=ISSUER,
                subject="alice",
                audiences=["api-a"],
                client_id="app",
                scope=["a:read"],
                now=now,
                ttl=300,
                extra={"acr": "mfa", "amr": ["pwd", "mfa"], "auth_time": int(now)},
            )
            typ: str | None = ACCESS_TOKEN_TYP
        else:
            claims = id_token_claims(
                issuer=ISSUER,
                subject="alice",
                client_id="app",
                now=now,
                ttl=300,
                auth_time=now,
                nonce="n-1",
                access_token="an-access-token",
                alg=keys.current.alg,
            )
            typ = "JWT"
        minted = mint_token(idp, claims, kind=kind, typ=typ, defects=[name])
        minted.issued()
        assert isinstance(minted.token, str)
        assert minted.token
    assert revoked == ([str(minted.claims["jti"])] if name == "revoked" else [])
