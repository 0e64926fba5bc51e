"""The catalog's shape, the library surface (``issue_token(defects=...)``) and its combinations."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import jwt
import pytest
import requests
from reference_validator import AccessPolicy, validate_access_token

from mockidp import MockIdP, MockIdPError
from mockidp.defects import CATALOG, GROUPS, defect_names, get_defect, resolve_defects

AUD = "demo-api"
SCOPE = "demo-api:read"
KEBAB = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
PUBLIC_KEYS = ["name", "group", "description", "spec", "expected_status", "expected_error", "severity"]

STEP_UP = "insufficient_user_authentication"


def part(token: str, index: int) -> dict[str, Any]:
    segment = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return decoded


def test_catalog_has_at_least_40_complete_entries_in_every_group() -> None:
    assert len(CATALOG) >= 40
    assert {d.group for d in CATALOG.values()} == set(GROUPS) and len(GROUPS) == 10
    for name, defect in CATALOG.items():
        assert name == defect.name and KEBAB.fullmatch(name), name
        summary = defect.summary()
        assert list(summary)[:7] == PUBLIC_KEYS
        required = [k for k in PUBLIC_KEYS if not (defect.positive and k == "expected_error")]
        assert all(summary[k] not in ("", None, []) for k in required), name
        assert "\n" not in defect.description
        assert defect.severity in ("must", "should")
        assert set(defect.applies_to) <= {"access", "id", "id-jag"} and defect.applies_to
        answer = (defect.expected_status, defect.expected_error)
        # 403 insufficient_scope (RFC 6750), 401 insufficient_user_authentication (RFC 9470 step-up)
        # positive controls (the last group) must be accepted: 200, no error
        # broken ID-JAGs: 400 invalid_grant from the resource authorization server (RFC 7523 §3.1)
        expected = (
            (401, "invalid_token"),
            (403, "insufficient_scope"),
            (401, STEP_UP),
            (200, ""),
            (400, "invalid_grant"),
        )
        assert answer in expected, name
        assert (answer == (200, "")) == (defect.group == "positive"), name


def test_issue_4_minimum_list_is_in_the_catalog() -> None:
    required = [
        "alg-none",
        "alg-none-capitalized",
        "alg-none-uppercase",
        "alg-none-mixed-case",
        "signature-empty",
        "payload-tampered",
        "signature-unknown-key",
        "alg-confusion-hs256-pem",
        "alg-confusion-hs256-jwk",
        "es256-zero-signature",
        "jku-attacker",
        "x5u-attacker",
        "jwk-embedded",
        "kid-path-traversal",
        "kid-sql-injection",
        "kid-unknown",
        "crit-unknown",
        "expired",
        "nbf-future",
        "iat-future",
        "exp-string",
        "exp-overflow",
        "aud-wrong",
        "aud-missing",
        "aud-lookalike",
        "iss-wrong",
        "iss-missing",
        "iss-trailing-slash",
        "exp-missing",
        "sub-missing",
        "scope-insufficient",
        "scope-array",
        "id-token-as-access-token",
        "typ-jwt",
        "typ-missing",
        "dpop-proof-as-access-token",
        "logout-token-as-access-token",
        "jwe-instead-of-jws",
        "revoked",
        "segments-two",
        "base64-padding",
        "payload-not-json",
        "payload-not-object",
        "payload-duplicate-sub",
        "oversized",
    ]
    assert set(required) <= set(CATALOG)
    assert defect_names() == list(CATALOG)
    assert "nonce-wrong" in defect_names("id") and "nonce-wrong" not in defect_names("access")


@pytest.mark.parametrize(
    ("name", "severity"),
    [
        # RFC 7515 §4.1.11: a recipient that does not understand b64 MUST reject; one that does
        # verifies over the unencoded payload and fails. Accepting always breaks a MUST.
        ("crit-b64-false", "must"),
        # RFC 9068 §4: the current time MUST be before exp; leeway "usually no more than a few minutes"
        ("expired-beyond-leeway", "must"),
        ("expired", "must"),
        # RFC 7515 §4 / RFC 7519 §4: rejecting duplicates or keeping the last member are both correct
        ("header-duplicate-alg", "should"),
        ("payload-duplicate-sub", "should"),
        # nothing obliges an API to check a self-contained JWT's revocation (RFC 7009 §2 note)
        ("revoked", "should"),
        # OIDC Core §3.1.3.8: in the code flow the client MAY check at_hash
        ("at-hash-wrong", "should"),
        ("nonce-wrong", "must"),
        # RFC 9068 §4 MUSTs
        ("typ-jwt", "must"),
        ("alg-none", "must"),
        ("iss-case-changed", "must"),
        ("aud-wrong", "must"),
    ],
)
def test_severity_follows_the_spec(name: str, severity: str) -> None:
    assert get_defect(name).severity == severity


def test_spec_clauses_do_not_point_at_the_wrong_status() -> None:
    """RFC 9110 §15.5.14 is 413 Content Too Large: a token in a header is answered 401."""
    assert all("9110" not in d.spec for d in CATALOG.values())


def test_unknown_defect_is_named(mockidp: MockIdP) -> None:
    with pytest.raises(MockIdPError, match="unknown defect 'no-such-thing'"):
        mockidp.issue_token(defects=["no-such-thing"])
    with pytest.raises(MockIdPError, match="unknown defect"):
        get_defect("no-such-thing")
    with pytest.raises(MockIdPError, match="list of names"):
        mockidp.issue_token(defects="expired")


def test_id_only_defect_refused_on_access_token(mockidp: MockIdP) -> None:
    with pytest.raises(MockIdPError, match="does not apply to access tokens"):
        mockidp.issue_token(defects=["nonce-wrong"])


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("alg-none", "alg-confusion-hs256-pem"),
        ("expired", "exp-missing"),
        ("segments-two", "not-a-jwt"),
        # revoking looks the token up by jti: once allowed, minting failed after the token was stored
        ("jti-missing", "revoked"),
    ],
)
def test_incompatible_defects_are_refused(mockidp: MockIdP, first: str, second: str) -> None:
    with pytest.raises(MockIdPError, match=f"'{first}' and '{second}' cannot be combined"):
        mockidp.issue_token(audience=AUD, scope=SCOPE, defects=[first, second])


@pytest.mark.slow  # every pair of the catalog: seconds
def test_every_combinable_pair_can_be_minted(mockidp: MockIdP) -> None:
    """What ``resolve_defects`` (and so ``strategies.defect_sets``) allows must also mint."""
    from mockidp.defects.plan import DefectSource
    from mockidp.issuance import issue_id_token

    for kind in ("access", "id"):
        names = defect_names(kind)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                try:
                    resolve_defects([first, second], kind)
                except MockIdPError:
                    continue
                if kind == "access":
                    mockidp.issue_token(audience=AUD, scope=SCOPE, defects=[first, second])
                else:
                    user = next(iter(mockidp.users.values()))
                    issue_id_token(
                        mockidp.state,
                        client_id="demo-app",
                        user=user,
                        nonce="n",
                        auth_time=mockidp.clock.now(),
                        access_token="at",
                        scopes=["openid"],
                        defects=DefectSource.exactly([first, second]),
                    )
                mockidp.state.keys.reset()  # kid-absent-several-keys rotates one in


def test_defects_compose(mockidp: MockIdP, http: requests.Session) -> None:
    token = mockidp.issue_token(audience=AUD, scope=SCOPE, defects=["expired", "aud-wrong", "typ-jwt"])
    claims, header = part(token, 1), part(token, 0)
    assert claims["exp"] < mockidp.clock.now() - 3000
    assert claims["aud"] != AUD and header["typ"] == "JWT"
    jwks = http.get(mockidp.jwks_uri).json()
    # still validly signed by the IdP: only the named defects are wrong
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == header["kid"]))
    jwt.PyJWS().decode(token, key=key, algorithms=["RS256"])


def test_insufficient_scope_keeps_other_scopes_and_audience(mockidp: MockIdP) -> None:
    token = mockidp.issue_token(audience=AUD, scope=SCOPE, defects=["scope-insufficient"])
    claims = part(token, 1)
    assert SCOPE not in str(claims["scope"]).split() and claims["aud"] == AUD


def test_revoked_defect_is_inactive_at_introspection(mockidp: MockIdP, http: requests.Session) -> None:
    token = mockidp.issue_token(audience=AUD, scope=SCOPE, defects=["revoked"])
    r = http.post(mockidp.url("introspect"), data={"token": token}, auth=("demo-agent", "demo-agent-secret"))
    assert r.json() == {"active": False}


def test_exp_overflow_is_1e309_and_inactive_at_introspection(
    mockidp: MockIdP, http: requests.Session
) -> None:
    token = mockidp.issue_token(audience=AUD, scope=SCOPE, defects=["exp-overflow"])
    segment = token.split(".")[1]
    assert b'"exp":1e309,' in base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    # the IdP's own validation must not read it as "expires at infinity"
    r = http.post(mockidp.url("introspect"), data={"token": token}, auth=("demo-agent", "demo-agent-secret"))
    assert r.json() == {"active": False}
    r = http.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_kid_absent_rotates_in_a_second_key(mockidp: MockIdP, http: requests.Session) -> None:
    assert len(http.get(mockidp.jwks_uri).json()["keys"]) == 1
    token = mockidp.issue_token(audience=AUD, scope=SCOPE, defects=["kid-absent-several-keys"])
    keys = http.get(mockidp.jwks_uri).json()["keys"]
    assert len(keys) == 2 and "kid" not in part(token, 0)
    # the signature is real: one of the published keys verifies it
    assert any(_verifies(token, k) for k in keys)


def _verifies(token: str, jwk: dict[str, object]) -> bool:
    try:
        jwt.PyJWS().decode(token, key=jwt.PyJWK(jwk), algorithms=[str(jwk["alg"])])
    except jwt.InvalidSignatureError:
        return False
    return True


def test_attacker_jwks_is_hosted_and_signs_jku_tokens(mockidp: MockIdP, http: requests.Session) -> None:
    token = mockidp.issue_token(audience=AUD, scope=SCOPE, defects=["jku-attacker"])
    header = part(token, 0)
    assert header["jku"] == mockidp.url("_mockidp/attacker/jwks.json")
    attacker = http.get(str(header["jku"]))
    assert attacker.status_code == 200
    assert attacker.headers["Content-Type"].startswith("application/jwk-set+json")
    [key] = attacker.json()["keys"]
    assert key["kid"] == header["kid"] and _verifies(token, key)
    idp_keys = http.get(mockidp.jwks_uri).json()["keys"]
    assert all(k["n"] != key["n"] for k in idp_keys)
    # a validator that trusts only the IdP's JWKS refuses it before looking for a key
    policy = AccessPolicy(issuer=mockidp.issuer, audience=AUD, jwks={"keys": idp_keys})
    assert validate_access_token(token, policy).reason == "header-key"
    assert [r.endpoint for r in mockidp.requests].count("attacker") == 1


def test_x5u_points_at_a_hosted_certificate_of_the_signing_key(
    mockidp: MockIdP, http: requests.Session
) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    token = mockidp.issue_token(audience=AUD, scope=SCOPE, defects=["x5u-attacker"])
    url = str(part(token, 0)["x5u"])
    assert url == mockidp.url("_mockidp/attacker/cert.pem")
    cert = x509.load_pem_x509_certificate(http.get(url).content)
    key = cert.public_key()
    assert isinstance(key, RSAPublicKey)
    jwt.PyJWS().decode(token, key=key, algorithms=["RS256"])


def test_psychic_signature_is_es256_with_the_idp_kid(mockidp: MockIdP) -> None:
    token = mockidp.issue_token(audience=AUD, scope=SCOPE, defects=["es256-zero-signature"])
    assert part(token, 0)["alg"] == "ES256" and part(token, 0)["kid"] == mockidp.signing_key.kid
    assert base64.urlsafe_b64decode(token.split(".")[2] + "==") == bytes(64)


def test_unsafe_minting_leaves_joserfc_registry_alone(mockidp: MockIdP) -> None:
    from joserfc.jws import JWSRegistry

    before = {name: alg.recommended for name, alg in JWSRegistry.algorithms.items()}
    for name in ("alg-none", "alg-confusion-hs256-pem", "hs256-guessable-secret"):
        mockidp.issue_token(audience=AUD, scope=SCOPE, defects=[name])
    assert {name: alg.recommended for name, alg in JWSRegistry.algorithms.items()} == before


def test_every_entry_has_a_one_line_consequence_and_a_check_with_a_fix() -> None:
    from mockidp.defects.checks import CHECKS

    for name, defect in CATALOG.items():
        assert defect.consequence and "\n" not in defect.consequence, name
        assert defect.check in CHECKS, name
    assert "PyJWT" in CATALOG["payload-utf16"].consequence


FORM_ONLY = [
    "iat-missing",
    "jti-missing",
    "client-id-missing",
    "sub-missing",
    "sub-not-string",
    "scope-array",
    "payload-utf16",
    "exp-overflow",
    "iat-future",
    "header-duplicate-alg",
    "payload-duplicate-sub",
    "oversized",
]


def test_severity_rule_form_only_tokens_are_should_and_forgeable_ones_must() -> None:
    """The rule of docs/defects.md: a token the trusted IdP minted for this API, wrong only in form."""
    assert {n: CATALOG[n].severity for n in FORM_ONLY} == dict.fromkeys(FORM_ONLY, "should")
    for name in ("alg-none", "jku-attacker", "aud-missing", "iss-wrong", "expired", "exp-missing"):
        assert CATALOG[name].severity == "must", name
    for name in ("nbf-future", "typ-jwt", "crit-unknown", "scope-insufficient", "scope-lookalike"):
        assert CATALOG[name].severity == "must", name


def test_scope_defects_carry_a_real_scope() -> None:
    with MockIdP() as idp:
        idp.add_api(audience=AUD, scopes=[SCOPE])
        idp.add_client(client_id="c", client_secret="s", audiences=[AUD], scopes=[SCOPE])
        insufficient = idp.issue_token(
            client_id="c", audience=AUD, scope=SCOPE, defects=["scope-insufficient"]
        )
        lookalike = idp.issue_token(client_id="c", audience=AUD, scope=SCOPE, defects=["scope-lookalike"])
    assert part(insufficient, 1)["scope"] == "mockidp:unrelated"
    assert part(lookalike, 1)["scope"] == f"{SCOPE}write"


ISSUE_12_MUST = [
    "iss-prefix",
    "iss-suffix",
    "iss-array",
    "iss-percent-encoded",
    "iss-explicit-port",
    "iss-unicode-lookalike",
    "aud-empty-array",
    "aud-wildcard",
    "aud-is-issuer",
    "aud-is-client-id",
    "aud-trailing-slash",
    "aud-case-changed",
    "aud-path-prefix",
    "alg-confusion-hs256-der",
    "alg-confusion-hs256-openssh",
    "alg-empty",
    "alg-null",
    "jwk-embedded-ec",
    "refresh-token-as-access-token",
    "id-jag-as-access-token",
    "jwe-pbes2-huge-p2c",
]
#: signed by the IdP for this API and wrong only in form: the severity rule makes them should
ISSUE_12_SHOULD = [
    "alg-padded",
    "alg-lowercase",
    "alg-array",
    "kid-null",
    "kid-number",
    "kid-array",
    "kid-wildcard",
    "kid-nosql-operator",
    "kid-crlf",
    "crit-empty",
    "crit-lists-alg",
    "b64-false-without-crit",
    "es256-der-signature",
    "zip-deflate-bomb",
    "cty-jwt-nested",
]


def test_issue_12_entries_are_in_the_catalog_with_the_severity_rule() -> None:
    assert {n: CATALOG[n].severity for n in ISSUE_12_MUST} == dict.fromkeys(ISSUE_12_MUST, "must")
    assert {n: CATALOG[n].severity for n in ISSUE_12_SHOULD} == dict.fromkeys(ISSUE_12_SHOULD, "should")
    positive = {n: (d.severity, d.expected_status) for n, d in CATALOG.items() if d.group == "positive"}
    assert positive == {
        "typ-application-at-jwt": ("should", 200),
        "aud-array-with-resource": ("must", 200),
        "exp-fractional": ("should", 200),
        "nbf-within-leeway": ("should", 200),
        "act-within-policy": ("should", 200),
    }
    assert CATALOG["alg-confusion-hs256-der"].cves == ("CVE-2024-33663",)
    assert "cve" in CATALOG["iss-prefix"].tags and CATALOG["iss-suffix"].tags == ()


def test_zip_bomb_is_small_on_the_wire_and_bounded_when_inflated(mockidp: MockIdP) -> None:
    import zlib

    token = mockidp.issue_token(audience=AUD, scope=SCOPE, defects=["zip-deflate-bomb"])
    assert len(token) < 4096 and part(token, 0)["zip"] == "DEF"
    segment = token.split(".")[1]
    inflated = zlib.decompress(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)), -15)
    assert 1_000_000 < len(inflated) <= 3 * 1024 * 1024
    assert json.loads(inflated)["aud"] == AUD
