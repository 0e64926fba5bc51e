"""check-api's verdicts against APIs written the common ways (Starlette + PyJWT's PyJWKClient).

Each API is independent code, not mockidp's validator: a careful one must pass, and each one
missing a single thing must fail (or warn) for exactly that thing, grouped as one finding.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import careful_api
import pytest
from broken_rs import Settings as CorpusSettings
from broken_rs import serve as serve_corpus

from mockidp import MockIdP
from mockidp.conformance.check_api import (
    ApiTarget,
    Catalog,
    RunOptions,
    access_token_catalog,
    prepare,
    run_cases,
)
from mockidp.conformance.report import ApiReport
from mockidp.errors import InconclusiveRun

AUDIENCE = "https://api.example/items"
SCOPE = "items:read"
FAST = RunOptions(expiry_wait=False)


@pytest.fixture(scope="module")
def idp() -> Iterator[MockIdP]:
    with MockIdP() as server:
        prepare(server, ApiTarget(url="", audience=AUDIENCE, scope=SCOPE))
        yield server


def check(
    idp: MockIdP,
    variant: str,
    *,
    strict: bool = False,
    issuer: str | None = None,
    catalog: Catalog | None = None,
    options: RunOptions = FAST,
    leeway: int = careful_api.LEEWAY,
) -> ApiReport:
    settings = careful_api.Settings(issuer or idp.issuer, idp.jwks_uri, AUDIENCE, SCOPE, variant, leeway)
    with careful_api.serve(settings) as url:
        target = ApiTarget(url=url, audience=AUDIENCE, scope=SCOPE)
        chosen = access_token_catalog() if catalog is None else catalog
        return run_cases(idp, target, chosen, strict=strict, options=options)


def check_corpus(
    idp: MockIdP, skip: str, options: RunOptions = FAST, catalog: Catalog | None = None
) -> ApiReport:
    settings = CorpusSettings(idp.issuer, idp.jwks_uri, AUDIENCE, SCOPE, skip)
    if skip == "cache":
        settings.leeway = 0
    with serve_corpus(settings) as url:
        target = ApiTarget(url=url, audience=AUDIENCE, scope=SCOPE)
        chosen = access_token_catalog() if catalog is None else catalog
        return run_cases(idp, target, chosen, options=options)


@pytest.mark.parametrize("strict", [False, True])
def test_careful_hardened_api_passes_every_case(idp: MockIdP, strict: bool) -> None:
    report = check(idp, "hardened", strict=strict)
    assert report.passed, report.table()
    assert report.summary() == {
        "passed": len(report.cases),
        "accepted": 0,
        "refused-differently": 0,
        "crashed": 0,
    }
    assert report.findings == []


def test_careful_api_of_the_issue_passes_its_form_findings_are_should(idp: MockIdP) -> None:
    """Pinned alg, typ, iss, aud, exp, nbf and scope: nobody gets in who should not.

    What it lets through was minted by the trusted IdP for this API and is wrong only in form
    (the issue's false alarms: iat-missing, jti-missing, client-id-missing, payload-utf16, ...).
    """
    report = check(idp, "careful")
    assert report.passed, report.table()
    assert all(f.severity == "should" for f in report.findings), report.table()
    groups = {f.cause: set(f.cases) for f in report.findings}
    assert groups["missing-claim"] == {"sub-missing", "iat-missing", "jti-missing", "client-id-missing"}
    assert groups["status"] == {"scope-array"}  # refused, with 403 instead of 401
    utf16 = next(c for c in report.cases if c.name == "payload-utf16")
    assert utf16.result == "accepted" and "PyJWT" in utf16.detail
    strict = check(idp, "careful", strict=True)
    assert not strict.passed
    assert {c.name for c in strict.failures} == {n for cases in groups.values() for n in cases}


def test_api_without_typ_check_fails_with_one_grouped_finding(idp: MockIdP) -> None:
    report = check(idp, "no-typ")
    assert not report.passed
    [finding] = report.findings
    assert finding.cause == "typ" and finding.severity == "must" and finding.outcome == "accepted"
    assert set(finding.cases) == {
        "typ-jwt",
        "typ-missing",
        "dpop-proof-as-access-token",
        "logout-token-as-access-token",
    }
    assert "at+jwt" in finding.fix and "RFC 9068 §4" in finding.fix
    table = report.table()
    assert table.index("does not check `typ` (4 cases") < table.index("valid-token")


def test_api_refusing_without_a_challenge_passes_and_fails_only_with_strict(idp: MockIdP) -> None:
    report = check(idp, "no-challenge")
    assert report.passed, report.table()
    [finding] = report.findings
    assert finding.cause == "challenge-missing" and finding.severity == "should"
    assert finding.outcome == "refused-differently"
    assert report.summary()["refused-differently"] == len(finding.cases) > 40
    assert report.summary()["accepted"] == 0
    strict = check(idp, "no-challenge", strict=True)
    assert not strict.passed
    assert [f.cause for f in strict.findings] == ["challenge-missing"]


def test_api_that_fetches_jku_then_refuses_fails_naming_the_url(idp: MockIdP) -> None:
    report = check(idp, "fetch-jku")
    assert not report.passed
    [finding] = report.findings
    assert finding.cause == "ssrf" and finding.severity == "must" and finding.cases == ("jku-attacker",)
    case = next(c for c in report.cases if c.name == "jku-attacker")
    url = f"{idp.issuer}/_mockidp/attacker/jwks.json"
    assert case.got == "401 invalid_token" and url in case.detail
    assert url in report.table()


def test_api_that_refuses_everything_is_inconclusive(idp: MockIdP) -> None:
    with pytest.raises(InconclusiveRun) as caught:
        check(idp, "hardened", issuer="https://login.example.com")
    message = str(caught.value)
    assert "refused the valid token (401 invalid_token)" in message
    assert idp.issuer in message and idp.jwks_uri in message and AUDIENCE in message
    assert "MOCKIDP_ISSUER" in message and "MOCKIDP_JWKS_URI" in message and "MOCKIDP_AUDIENCE" in message


def test_api_that_crashes_on_garbage_fails_as_crashed(idp: MockIdP) -> None:
    report = check(idp, "crash-on-garbage")
    assert not report.passed
    [finding] = report.findings
    assert finding.cause == "crash" and finding.severity == "must" and "not-a-jwt" in finding.cases
    assert report.summary()["crashed"] == len(finding.cases)


def test_substring_scope_check_fails_scope_lookalike_only(idp: MockIdP) -> None:
    report = check_corpus(idp, "scope-substring")
    assert not report.passed
    [finding] = report.findings
    # `items:read,` passes a substring check too; the group is must because of the lookalike
    assert finding.cause == "scope" and finding.severity == "must"
    assert finding.cases == ("scope-lookalike", "scope-comma-separated")
    levels = {c.name: c.level for c in report.cases if c.level}
    assert levels == {"scope-lookalike": "must", "scope-comma-separated": "should"}
    # scope-insufficient carries a real, unrelated scope: no substring of it matches
    assert next(c for c in report.cases if c.name == "scope-insufficient").passed


def test_token_in_query_is_a_should_unless_documented(idp: MockIdP) -> None:
    report = check_corpus(idp, "query", catalog={})
    assert report.passed
    query = next(c for c in report.cases if c.name == "token-in-query")
    assert query.result == "accepted" and query.level == "should"
    assert [f.cause for f in report.findings] == ["token-in-query"]
    documented = check_corpus(
        idp, "query", RunOptions(expiry_wait=False, allow_token_in=frozenset({"query"})), {}
    )
    assert documented.findings == [] and all(c.passed for c in documented.cases)


@pytest.mark.slow
def test_cache_past_exp_is_a_must_and_leeway_is_not_mistaken_for_one(idp: MockIdP) -> None:
    import time

    began = time.monotonic()
    cached = check_corpus(idp, "cache", RunOptions(), {})
    assert time.monotonic() - began < 3.5
    case = next(c for c in cached.cases if c.name == "expired-after-cache")
    assert case.result == "accepted" and case.level == "must", cached.table()
    assert "unseen token with the same exp was refused" in case.detail
    assert not cached.passed and [f.cause for f in cached.findings] == ["exp-cache"]
    lenient = check_corpus(idp, "iss", RunOptions(), {})  # leeway 60 s, no cache
    leeway = next(c for c in lenient.cases if c.name == "expired-after-cache")
    assert leeway.passed and "leeway" in leeway.detail
    careful = check(idp, "hardened", options=RunOptions(), catalog={}, leeway=0)  # PyJWT, no leeway
    strict_case = next(c for c in careful.cases if c.name == "expired-after-cache")
    assert strict_case.passed and strict_case.detail == "", careful.table()


def test_junit_and_json_name_the_outcome(idp: MockIdP) -> None:
    import xml.etree.ElementTree as ET

    from mockidp.conformance.junit import junit_xml

    lenient = check(idp, "no-challenge", catalog={"alg-none": access_token_catalog()["alg-none"]})
    strict = dataclasses.replace(lenient, strict=True)
    for report, tag, failures in ((lenient, "skipped", "0"), (strict, "failure", "2")):
        suite = ET.fromstring(junit_xml([(report, "mockidp.check-api")])).find("testsuite")
        assert suite is not None and suite.get("failures") == failures
        marks = [m for case in suite for m in case if m.tag in ("failure", "skipped")]
        assert {m.tag for m in marks} == {tag} and {m.get("type") for m in marks} == {"refused-differently"}
        assert all(m.get("message", "").startswith("refused-differently: ") for m in marks)
    data = strict.to_dict()
    assert data["summary"]["refused-differently"] == 2 and data["strict"] is True
    assert [f["cause"] for f in data["findings"]] == ["challenge-missing"]
    assert {c["outcome"] for c in data["cases"]} == {"passed", "refused-differently"}


# --- issue 12: breach-derived entries and positive controls -----------------------------------


def test_iss_startswith_is_caught_by_the_suffix_entry(idp: MockIdP) -> None:
    report = check_corpus(idp, "iss-startswith")
    assert not report.passed
    [finding] = report.findings
    assert finding.cause == "iss" and finding.severity == "must"
    # `startswith` lets through exactly what extends the issuer: a suffix or a trailing slash
    assert set(finding.cases) == {"iss-suffix", "iss-trailing-slash"}, report.table()


def test_hmac_keyed_with_der_or_openssh_is_caught_by_those_entries(idp: MockIdP) -> None:
    report = check_corpus(idp, "jose-hmac")
    assert not report.passed
    [finding] = report.findings
    assert finding.cause == "alg" and finding.severity == "must"
    assert set(finding.cases) == {"alg-confusion-hs256-der", "alg-confusion-hs256-openssh"}
    assert "CVE-2024-33663" in " ".join(finding.notes)


def test_api_refusing_the_full_media_type_is_too_strict_a_should(idp: MockIdP) -> None:
    report = check(idp, "at-jwt-only")
    assert report.passed, report.table()  # a should finding: nobody gets in who should not
    [finding] = report.findings
    assert (finding.cause, finding.severity, finding.cases) == (
        "typ-media-type",
        "should",
        ("typ-application-at-jwt",),
    )
    case = next(c for c in report.cases if c.name == "typ-application-at-jwt")
    assert case.result == "refused-differently" and "too strict" in case.detail
    assert not check(idp, "at-jwt-only", strict=True).passed


def test_api_without_leeway_is_caught_by_the_leeway_control_as_a_should(idp: MockIdP) -> None:
    report = check(idp, "hardened", leeway=0)  # PyJWT's default: secure, but breaks under skew
    assert report.passed, report.table()
    [finding] = report.findings
    assert (finding.cause, finding.severity, finding.cases) == ("leeway", "should", ("nbf-within-leeway",))
    assert not check(idp, "hardened", leeway=0, strict=True).passed


def test_positive_controls_are_accepted_by_the_careful_api(idp: MockIdP) -> None:
    from mockidp.defects import CATALOG, NOT_SENT_BY_DEFAULT

    report = check(idp, "hardened")
    positives = [c for c in report.cases if CATALOG.get(c.name) and CATALOG[c.name].positive]
    sent = {n for n, d in CATALOG.items() if d.positive and n not in NOT_SENT_BY_DEFAULT}
    assert {c.name for c in positives} == sent  # act-within-policy only with --delegation
    assert all(c.passed and c.status == 200 and c.expected_status == 200 for c in positives)


@pytest.mark.parametrize("cache_keys", [False, True])
def test_jwks_sequences_catch_an_api_that_never_refetches(idp: MockIdP, cache_keys: bool) -> None:
    """``jwks-new-kid``: a key rotated in just before must verify (the API refetches);
    ``jwks-removed-key``: a key withdrawn before the API saw it must not;
    ``jwks-unknown-kid-flood``: 50 unknown kids may cause at most a few JWKS fetches."""
    settings = CorpusSettings(idp.issuer, idp.jwks_uri, AUDIENCE, SCOPE, cache_keys=cache_keys)
    with serve_corpus(settings) as url:
        target = ApiTarget(url=url, audience=AUDIENCE, scope=SCOPE)
        report = run_cases(idp, target, {}, options=RunOptions(expiry_wait=False, jwks=True))
    assert idp.state.keys.keys == (idp.state.keys.current,)  # the keys are put back
    by_name = {c.name: c for c in report.cases}
    assert by_name["jwks-removed-key"].passed, report.table()
    new_kid, flood = by_name["jwks-new-kid"], by_name["jwks-unknown-kid-flood"]
    [finding] = report.findings
    assert finding.severity == "should" and report.passed, report.table()
    if not cache_keys:  # fetches the JWKS on every request: rollover works, floods hammer the IdP
        assert new_kid.passed
        assert flood.result == "refused-differently" and "hammer the IdP" in flood.detail
        assert finding.cause == "jwks-flood"
        return
    assert flood.passed and flood.detail.startswith("0 JWKS fetches"), flood.detail
    assert new_kid.result == "refused-differently" and "refetch" in new_kid.detail
    assert finding.cause == "jwks-refetch"


def test_jwks_broken_key_catches_an_api_that_chokes_on_one_bad_key(idp: MockIdP) -> None:
    """``jwks-broken-key``: the JWKS gains a key nobody can parse next to a good new one; an API
    that skips it passes, one that parses every key first (and so refuses everything) does not."""
    for skip, passes in ((None, True), ("jwks-all-keys", False)):
        settings = CorpusSettings(idp.issuer, idp.jwks_uri, AUDIENCE, SCOPE, skip)
        with serve_corpus(settings) as url:
            target = ApiTarget(url=url, audience=AUDIENCE, scope=SCOPE)
            report = run_cases(idp, target, {}, options=RunOptions(expiry_wait=False, jwks=True))
        case = next(c for c in report.cases if c.name == "jwks-broken-key")
        assert case.passed is passes, report.table()
        assert not idp.state.misbehaviour.jwks_broken_key  # switched off again
        if not passes:
            assert case.result == "refused-differently" and "could not parse" in case.detail
