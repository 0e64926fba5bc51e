"""check-api against the corpus of resource servers that each skip one validation step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from broken_rs import Settings, serve

from mockidp import MockIdP
from mockidp.conformance.case import Severity
from mockidp.conformance.check_api import (
    ApiTarget,
    Catalog,
    RunOptions,
    access_token_catalog,
    prepare,
    run_cases,
)
from mockidp.conformance.report import ApiReport

AUDIENCE = "https://api.example/items"
SCOPE = "items:read"
#: expired-after-cache waits ~2.5 s; the tests that need it ask for it
FAST = RunOptions(expiry_wait=False)
#: the cases every run sends before the catalog
LEADING = ["valid-token", "no-token", "token-in-query", "token-in-body"]


@dataclass(frozen=True)
class FakeDefect:
    """Stands in for mockidp.defects.Defect in tests of the runner itself."""

    name: str
    spec: str = "RFC 9068 section 4"
    expected_status: int = 401
    expected_error: str = "invalid_token"
    severity: Severity = "must"
    requires_alg: str | None = None


FAKE: Catalog = {
    d.name: d
    for d in (
        FakeDefect("aud.wrong"),
        FakeDefect("time.expired"),
        FakeDefect("sig.tampered"),
        FakeDefect("scope.insufficient", expected_status=403, expected_error="insufficient_scope"),
        FakeDefect("iss.wrong", severity="should"),
        FakeDefect("fmt.not_jwt"),
    )
}


def fake_mint(idp: MockIdP, target: ApiTarget, defects: Sequence[str]) -> str:
    now = int(idp.clock.now())
    claims: dict[str, dict[str, object]] = {
        "aud.wrong": {"aud": "https://other.example"},
        "time.expired": {"exp": now - 3600, "iat": now - 7200, "nbf": now - 7200},
        "iss.wrong": {"iss": "https://evil.example"},
    }
    name = defects[0] if defects else ""
    scope = "" if name == "scope.insufficient" else target.scope
    token = idp.issue_token(
        client_id="mockidp-check-api", audience=target.audience, scope=scope or None, claims=claims.get(name)
    )
    if name == "scope.insufficient":
        token = idp.issue_token(
            client_id="mockidp-check-api", audience=target.audience, scope=None, claims={"scope": "other"}
        )
    if name == "fmt.not_jwt":
        token = "not.a-jwt"
    if name == "sig.tampered":
        head, body, sig = token.split(".")
        token = f"{head}.{body}.{sig[:-4]}AAAA"
    return token


def run_against(
    skip: str | None, catalog: Catalog = FAKE, strict: bool = False, options: RunOptions = FAST
) -> ApiReport:
    """Run check-api's cases against an in-process corpus RS skipping ``skip``."""
    with MockIdP() as idp:
        target = ApiTarget(url="", audience=AUDIENCE, scope=SCOPE)
        prepare(idp, target)
        settings = Settings(idp.issuer, idp.jwks_uri, AUDIENCE, SCOPE, skip)
        if skip == "cache":
            settings.leeway = 0
        with serve(settings) as url:
            target = ApiTarget(url=url, audience=AUDIENCE, scope=SCOPE)
            if catalog is FAKE:
                return run_cases(idp, target, catalog, strict=strict, minter=fake_mint, options=options)
            return run_cases(idp, target, catalog, strict=strict, options=options)


def test_correct_rs_passes_fake_catalog() -> None:
    report = run_against(None)
    assert report.passed, report.table()
    names = [c.name for c in report.cases]
    assert names[:4] == LEADING
    assert set(names[4:]) == set(FAKE)


@pytest.mark.parametrize(
    ("skip", "defect"),
    [
        ("aud", "aud.wrong"),
        ("exp", "time.expired"),
        ("signature", "sig.tampered"),
        ("scope", "scope.insufficient"),
    ],
)
def test_fake_catalog_names_what_got_through(skip: str, defect: str) -> None:
    report = run_against(skip)
    assert not report.passed
    failed = [c.name for c in report.failures]
    assert defect in failed, report.table()
    assert "accepted" in next(c.detail for c in report.cases if c.name == defect)


def test_should_failures_count_only_with_strict() -> None:
    lenient = run_against("iss")
    assert lenient.passed
    assert "warn" in lenient.table()
    strict = run_against("iss", strict=True)
    assert not strict.passed
    assert [c.name for c in strict.failures] == ["iss.wrong"]


def test_crash_is_a_failure() -> None:
    report = run_against("crash")
    broken = [c for c in report.cases if c.status == 500]
    assert broken and all(c.broken and not c.passed for c in broken)


# --- the real catalog against the corpus -------------------------------------------------------

CORPUS = [
    ("signature", "payload-tampered"),
    ("alg-none", "alg-none"),
    ("hs-rs-confusion", "alg-confusion-hs256-pem"),
    ("aud", "aud-wrong"),
    ("exp", "expired"),
    ("nbf", "nbf-future"),
    ("iss", "iss-wrong"),
    ("scope", "scope-insufficient"),
    ("jku", "jku-attacker"),
    ("jwk", "jwk-embedded"),
]


def test_correct_rs_passes_the_catalog() -> None:
    report = run_against(None, catalog=access_token_catalog())
    assert report.passed, report.table()
    assert all(c.passed for c in report.cases), report.table()
    meaningful = [d for d in access_token_catalog().values() if d.requires_alg in (None, "RS256")]
    assert len(report.cases) == len(meaningful) + len(LEADING)


@pytest.mark.parametrize(("skip", "defect"), CORPUS)
def test_each_broken_rs_fails_naming_the_defect(skip: str, defect: str) -> None:
    report = run_against(skip, catalog=access_token_catalog())
    assert not report.passed
    failed = {c.name: c for c in report.failures}
    assert defect in failed, report.table()
    assert failed[defect].status == 200
    assert defect in report.table()
    assert "valid-token" not in failed


def test_rs_that_crashes_on_malformed_input_fails() -> None:
    report = run_against("crash", catalog=access_token_catalog())
    assert not report.passed
    crashed = [c for c in report.failures if c.status == 500]
    assert {"not-a-jwt", "segments-two"} <= {c.name for c in crashed}, report.table()
    assert all(c.broken and c.result == "crashed" and "server error" in c.detail for c in crashed)
    crash = [f for f in report.findings if f.cause == "crash"]
    assert (
        len(crash) == 1 and crash[0].severity == "must" and set(crash[0].cases) == {c.name for c in crashed}
    )


@pytest.mark.parametrize("skip", [None, "aud"])
def test_key_rotating_defect_does_not_hide_later_defects_from_a_caching_rs(skip: str | None) -> None:
    """kid-absent-several-keys rotates a key in; later tokens must still use the key the API cached.

    Otherwise an API that fetched the JWKS once refuses every later token for its unknown kid,
    and defects such as aud-wrong "pass" although the API never checks them.
    """
    with MockIdP() as idp:
        target = ApiTarget(url="", audience=AUDIENCE, scope=SCOPE)
        prepare(idp, target)
        settings = Settings(idp.issuer, idp.jwks_uri, AUDIENCE, SCOPE, skip, cache_keys=True)
        catalog = access_token_catalog()
        assert list(catalog).index("kid-absent-several-keys") < list(catalog).index("aud-wrong")
        with serve(settings) as url:
            report = run_cases(idp, ApiTarget(url=url, audience=AUDIENCE, scope=SCOPE), catalog, options=FAST)
    failed = {c.name for c in report.cases if not c.passed}
    if skip is None:
        assert failed <= {"kid-absent-several-keys"}, report.table()
    else:
        assert "aud-wrong" in failed, report.table()
