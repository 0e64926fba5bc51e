"""``check-api --dpop`` verdicts: a DPoP-requiring API passes only when it checks everything.

The APIs are independent code (``dpop_api``: Starlette + PyJWT, from RFC 9449): the careful one
passes, with and without its own nonce; each one that skips a single check fails on the case
named for that check, grouped as one finding under it. mockidp's own DPoP mock API passes too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import careful_api
import dpop_api
import pytest
from serving import free_port

from mockidp import MockIdP
from mockidp.conformance.check_api import ApiTarget, RunOptions, access_token_catalog, prepare, run_cases
from mockidp.conformance.report import ApiReport
from mockidp.resources import MockApis

AUDIENCE = "https://api.example/items"
SCOPE = "items:read"
DPOP = RunOptions(expiry_wait=False, dpop=True)
#: skip -> the DPoP cases that must fail for it
FAILS = {
    "scheme": {"dpop-bound-token-as-bearer"},
    "proof": {"dpop-proof-missing"},
    "typ": {"dpop-proof-wrong-typ"},
    "signature": {"dpop-proof-unsigned", "dpop-proof-bad-signature"},
    "htm": {"dpop-htm-wrong"},
    "htu": {"dpop-htu-wrong"},
    "iat": {"dpop-iat-stale"},
    "nonce": {"dpop-nonce-missing"},
    "ath": {"dpop-ath-wrong", "dpop-ath-missing"},
    "jkt": {"dpop-proof-other-key"},
    "jti": {"dpop-jti-replayed"},
}


@pytest.fixture(scope="module")
def idp() -> Iterator[MockIdP]:
    with MockIdP() as server:
        prepare(server, ApiTarget(url="", audience=AUDIENCE, scope=SCOPE))
        yield server


def check(idp: MockIdP, skip: str = "", *, nonce: bool = False, options: RunOptions = DPOP) -> ApiReport:
    token = careful_api.Settings(idp.issuer, idp.jwks_uri, AUDIENCE, SCOPE, "hardened")
    with dpop_api.serve(dpop_api.Settings(token, skip=skip, nonce=nonce)) as url:
        target = ApiTarget(url=url, audience=AUDIENCE, scope=SCOPE)
        return run_cases(idp, target, access_token_catalog(), options=options)


@pytest.mark.parametrize("nonce", [False, True], ids=["no-nonce", "api-nonce"])
def test_a_careful_dpop_api_passes_every_case(idp: MockIdP, nonce: bool) -> None:
    report = check(idp, nonce=nonce, options=RunOptions(expiry_wait=False, dpop=True, dpop_nonce=nonce))
    assert report.passed, report.table()
    assert [c for c in report.cases if not c.passed] == [], report.table()
    names = {c.name for c in report.cases}
    assert set().union(*FAILS.values()) - ({"dpop-nonce-missing"} if not nonce else set()) <= names
    assert ("dpop-nonce-missing" in names) == nonce


@pytest.mark.parametrize("skip", list(FAILS))
def test_an_api_skipping_one_dpop_check_fails_on_that_case(idp: MockIdP, skip: str) -> None:
    nonce = skip == "nonce"
    report = check(idp, skip, nonce=nonce, options=RunOptions(expiry_wait=False, dpop=True, dpop_nonce=nonce))
    failed = {c.name for c in report.cases if not c.passed}
    assert failed == FAILS[skip], report.table()
    assert all(c.result == "accepted" for c in report.cases if not c.passed)
    severe = any(c.severity == "must" for c in report.cases if c.name in FAILS[skip])
    assert report.passed is not severe, report.table()
    assert {f.cause for f in report.findings} == {f"dpop-{skip}"}


def test_an_api_that_never_asked_for_a_nonce_is_not_judged_on_it(idp: MockIdP) -> None:
    report = check(idp)
    assert "dpop-nonce-missing" not in {c.name for c in report.cases}


def test_a_bearer_only_api_fails_the_dpop_run(idp: MockIdP) -> None:
    """An API that ignores DPoP entirely (the plain careful API) refuses the DPoP scheme: the
    valid DPoP request is refused, so the run is inconclusive rather than a pass."""
    from mockidp.errors import InconclusiveRun

    settings = careful_api.Settings(idp.issuer, idp.jwks_uri, AUDIENCE, SCOPE, "hardened")
    with careful_api.serve(settings) as url, pytest.raises(InconclusiveRun):
        run_cases(
            idp, ApiTarget(url=url, audience=AUDIENCE, scope=SCOPE), access_token_catalog(), options=DPOP
        )


@pytest.mark.parametrize("nonce", [False, True], ids=["no-nonce", "api-nonce"])
def test_mockidps_own_dpop_mock_api_passes(nonce: bool) -> None:
    with MockIdP() as server, MockApis(server, ["items"]) as apis:
        api = apis["items"]
        api.require_dpop(nonce=nonce)
        target = ApiTarget(url=api.url, audience=api.url, scope="items:read")
        prepare(server, target)
        report = run_cases(
            server,
            target,
            access_token_catalog(),
            options=RunOptions(expiry_wait=False, dpop=True, dpop_nonce=nonce),
        )
    assert report.passed, report.table()
    assert [c.name for c in report.cases if not c.passed] == [], report.table()


@pytest.mark.slow
@pytest.mark.parametrize(("skip", "code"), [("", 0), ("jkt", 1)])
def test_cli_dpop_run(skip: str, code: int, capsys: pytest.CaptureFixture[str]) -> None:
    """``mockidp check-api --dpop --start``: exit 0 for the careful API, 1 naming the missing check."""
    import sys
    from pathlib import Path

    from mockidp.cli import main

    port = free_port()
    script = Path(dpop_api.__file__)
    start = f"{sys.executable} {script} --port {port} --nonce" + (f" --skip {skip}" if skip else "")
    args = ["check-api", f"http://127.0.0.1:{port}/items", f"--audience={AUDIENCE}", f"--scope={SCOPE}"]
    assert main([*args, "--dpop-nonce", "--no-expiry-wait", "--start", start]) == code
    out = capsys.readouterr().out
    assert "dpop-nonce-missing" in out
    if skip:
        assert "dpop-proof-other-key" in out and "accepted" in out


@pytest.mark.slow
def test_a_scenario_with_dpop_names_the_missing_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``api: {dpop: true}`` in a scenario file runs the DPoP cases; ``expect.failing`` matches."""
    import sys

    import yaml

    from mockidp.cli import main

    port = free_port()
    scenario = {
        "version": 1,
        "name": "dpop-htu-skipped",
        "api": {
            "url": f"http://127.0.0.1:{port}/items",
            "audience": AUDIENCE,
            "scope": SCOPE,
            "start": f"{sys.executable} {dpop_api.__file__} --port {port} --skip htu",
            "defects": ["expired"],
            "dpop": True,
        },
        "expect": {"failing": ["dpop-htu-wrong"]},
    }
    path = tmp_path / "dpop.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    assert main(["run", str(path)]) == 0, capsys.readouterr().out
    assert "as expected" in capsys.readouterr().out


def test_jwks_sequences_are_sent_the_dpop_way() -> None:
    """``--jwks --dpop``: the key-rollover tokens go out bound and proved. mockidp's DPoP mock
    API always knows the IdP's current keys, so it accepts the new kid: sent as Bearer, that
    bound token would be refused for the scheme instead."""
    with MockIdP() as server, MockApis(server, ["items"]) as apis:
        api = apis["items"]
        api.require_dpop()
        target = ApiTarget(url=api.url, audience=api.url, scope="items:read")
        prepare(server, target)
        options = RunOptions(expiry_wait=False, placement=False, jwks=True, dpop=True)
        report = run_cases(server, target, {}, options=options)
    outcomes = {c.name: c.result for c in report.cases if c.name.startswith("jwks-")}
    assert outcomes == {
        "jwks-new-kid": "passed",
        "jwks-removed-key": "passed",
        "jwks-broken-key": "passed",
        "jwks-unknown-kid-flood": "passed",
    }, report.table()
