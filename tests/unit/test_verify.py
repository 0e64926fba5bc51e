"""The one verifier (``mockidp.verify``): strict JWS parsing and the access-token policy, unit by unit.

Tokens are signed here byte for byte (joserfc's algorithm objects over a hand-written signing
input), so payloads a normal encoder would never write (duplicate names, UTF-16, NaN) carry a
valid signature and only the verifier's strictness can refuse them.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc.jws import JWSRegistry

from mockidp import base64url
from mockidp.errors import InvalidToken
from mockidp.keys import SigningKey, pooled_key
from mockidp.verify import (
    AccessTokenPolicy,
    audiences_of,
    scopes_of,
    verify,
    verify_id_token_hint,
    verify_jws,
)

ISSUER = "http://127.0.0.1:9/idp"
API = "https://api.example/v1"
NOW = 1_800_000_000
KEY = SigningKey(pooled_key("ES256", kid="k1"), "ES256")
POLICY = AccessTokenPolicy(issuer=ISSUER, audiences=(API,), leeway=60)
HEADER: dict[str, Any] = {"alg": "ES256", "kid": "k1", "typ": "at+jwt"}


def find(kid: str) -> SigningKey | None:
    return KEY if kid == KEY.kid else None


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "alice",
        "aud": API,
        "exp": NOW + 300,
        "iat": NOW,
        "nbf": NOW,
        "jti": "j1",
        "client_id": "agent",
        "scope": "read write",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign_raw(header: bytes, payload: bytes, key: SigningKey = KEY) -> str:
    signing = f"{base64url.encode(header)}.{base64url.encode(payload)}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        signature = JWSRegistry.algorithms[key.alg].sign(signing.encode("ascii"), key.key)
    return f"{signing}.{base64url.encode(bytes(signature))}"


def token(payload: dict[str, Any] | None = None, **header: Any) -> str:
    head = {k: v for k, v in {**HEADER, **header}.items() if v is not None}
    return sign_raw(json.dumps(head).encode(), json.dumps(claims() if payload is None else payload).encode())


def refusal(value: str, policy: AccessTokenPolicy = POLICY, now: float = NOW) -> str:
    with pytest.raises(InvalidToken) as caught:
        verify(value, find, policy, now)
    return caught.value.description


def test_a_valid_token_gives_its_claims() -> None:
    assert verify(token(), find, POLICY, NOW) == claims()
    assert scopes_of(claims()) == ("read", "write")


@pytest.mark.parametrize("aud", [API, [API], ["https://other.example", API]])
def test_aud_as_string_or_array_naming_the_api(aud: str | list[str]) -> None:
    assert verify(token(claims(aud=aud)), find, POLICY, NOW)["aud"] == aud
    assert API in audiences_of({"aud": aud})


@pytest.mark.parametrize("aud", ["https://api.example/v1/", ["https://other.example"], [], 7, [API, 7]])
def test_aud_not_naming_the_api_or_not_strings_is_refused(aud: Any) -> None:
    assert refusal(token(claims(aud=aud))) in ("token is not for this resource", "aud must hold strings")


def test_no_audience_rule_accepts_any_audience() -> None:
    anywhere = AccessTokenPolicy(issuer=ISSUER, audiences=None)
    assert verify(token(claims(aud="https://other.example")), find, anywhere, NOW)["sub"] == "alice"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"sub":"alice","sub":"mallory"}', "payload is not base64url JSON"),  # duplicate names
        (json.dumps(claims()).encode("utf-16"), "payload is not base64url JSON"),
        (b"\xef\xbb\xbf" + json.dumps(claims()).encode(), "payload is not base64url JSON"),  # UTF-8 BOM
        (json.dumps(claims()).encode() + b" {}", "payload is not base64url JSON"),  # trailing data
        (json.dumps(claims(exp=float("nan"))).encode(), "payload is not base64url JSON"),  # NaN
        (b'["iss","sub"]', "payload is not a JSON object"),
        (b'"alice"', "payload is not a JSON object"),
    ],
    ids=["duplicate-name", "utf-16", "utf-8-bom", "trailing-data", "nan", "array", "string"],
)
def test_payload_json_must_be_strict(payload: bytes, reason: str) -> None:
    assert refusal(sign_raw(json.dumps(HEADER).encode(), payload)) == reason


def test_duplicate_header_names_are_refused() -> None:
    header = b'{"alg":"ES256","kid":"k1","typ":"at+jwt","alg":"none"}'
    assert refusal(sign_raw(header, json.dumps(claims()).encode())) == "header is not base64url JSON"


@pytest.mark.parametrize("bad", ["=", "+", "/", "*", " "])
def test_segments_must_be_unpadded_base64url(bad: str) -> None:
    """RFC 7515 §2: unpadded, and only the URL-safe alphabet."""
    head, payload, signature = token().split(".")
    assert refusal(f"{head}.{payload[:5]}{bad}{payload[6:]}.{signature}") == "payload is not base64url"
    assert refusal(f"{head}.{payload}.{signature}{bad}") == "signature is not base64url"
    assert refusal(f"{head}{bad}.{payload}.{signature}") == "header is not base64url"


def test_non_canonical_base64url_is_refused() -> None:
    """RFC 4648 §3.5: a last character with non-zero unused bits is another spelling of one token."""
    head, payload, signature = token().split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # ES256: 64 bytes are 86 characters; the last one carries 2 bits and 4 unused (zero) bits
    other = signature[:-1] + alphabet[alphabet.index(signature[-1]) | 1]
    assert base64url.decode(other) == base64url.decode(signature)  # a lenient decoder sees one token
    assert refusal(f"{head}.{payload}.{other}") == "signature is not base64url"


@pytest.mark.parametrize("value", ["", "a.b", "a.b.c.d", "a.b.c.d.e"])
def test_not_a_compact_jws(value: str) -> None:
    assert refusal(value) in ("not a compact JWS", "header is not base64url")


def test_size_limit_is_inclusive() -> None:
    value = token()
    exact = AccessTokenPolicy(issuer=ISSUER, audiences=(API,), max_length=len(value))
    assert verify(value, find, exact, NOW)["jti"] == "j1"
    shorter = AccessTokenPolicy(issuer=ISSUER, audiences=(API,), max_length=len(value) - 1)
    assert refusal(value, shorter).startswith("token too large")


def test_default_size_limit_is_4_kib() -> None:
    big = token(claims(padding="x" * 4096))
    assert refusal(big).startswith("token too large")


@pytest.mark.parametrize(("leeway", "inside"), [(0, True), (0, False), (60, True), (60, False)])
def test_leeway_edges_on_exp_nbf_and_iat(leeway: int, inside: bool) -> None:
    policy = AccessTokenPolicy(issuer=ISSUER, audiences=(API,), leeway=leeway)
    step = 0 if inside else 1
    # exp is exclusive: a token is dead at exp (RFC 7519 §4.1.4), leeway extends that
    expired = token(claims(exp=NOW - leeway + 1 - step))
    late_nbf = token(claims(nbf=NOW + leeway + step))
    late_iat = token(claims(iat=NOW + leeway + step))
    if inside:
        for value in (expired, late_nbf, late_iat):
            assert verify(value, find, policy, NOW)["sub"] == "alice"
    else:
        assert refusal(expired, policy) == "token expired"
        assert refusal(late_nbf, policy) == "token not yet valid"
        assert refusal(late_iat, policy) == "token issued in the future"


@pytest.mark.parametrize("value", ["1800000000", True, -1, 2**53])
def test_times_must_be_numeric_dates(value: Any) -> None:
    assert refusal(token(claims(exp=value))) == "claim 'exp' is not a NumericDate"


def test_an_exp_of_1e309_is_not_read_as_infinity() -> None:
    payload = json.dumps(claims(exp=0)).replace('"exp": 0', '"exp": 1e309').encode()
    assert refusal(sign_raw(json.dumps(HEADER).encode(), payload)) == "claim 'exp' is not a NumericDate"


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])
def test_access_token_typ_accepted(typ: str) -> None:
    assert verify(token(typ=typ), find, POLICY, NOW)["sub"] == "alice"


@pytest.mark.parametrize("typ", ["JWT", "jwt", "dpop+jwt", "logout+jwt", None, 1])
def test_other_typ_refused_before_the_key_is_looked_up(typ: Any) -> None:
    assert refusal(token(typ=typ, kid="not-a-key")).startswith(f"typ {typ!r} is not")


@pytest.mark.parametrize("name", ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"])
def test_rfc_9068_claims_are_required(name: str) -> None:
    assert refusal(token(claims(**{name: None}))) == f"missing claim {name!r}"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (claims(iss=ISSUER + "/"), "wrong issuer"),
        (claims(sub=7), "claim 'sub' must be a string"),
        (claims(scope=["read"]), "scope must be a space-delimited string"),
    ],
)
def test_claim_values(payload: dict[str, Any], reason: str) -> None:
    assert refusal(token(payload)) == reason


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"alg": "none"}, "alg 'none' not allowed"),
        ({"alg": "HS256"}, "alg 'HS256' not allowed"),
        ({"alg": "RS256"}, "alg 'RS256' is not the algorithm of key k1"),
        ({"kid": "k2"}, "unknown kid"),
        ({"kid": None}, "the header names no key (kid)"),
        ({"jwk": {"kty": "EC"}}, "header parameter 'jwk' not accepted"),
        ({"jku": "https://attacker.example/jwks"}, "header parameter 'jku' not accepted"),
        ({"crit": ["exp"]}, "header parameter 'crit' not accepted"),
        ({"zip": "DEF"}, "nested, unencoded or compressed tokens are not accepted"),
    ],
)
def test_header_rules(header: dict[str, Any], reason: str) -> None:
    assert refusal(token(**header)) == reason


def test_a_bad_signature_is_refused() -> None:
    head, _, signature = token().split(".")
    forged = base64url.encode(json.dumps(claims(sub="mallory")).encode())
    assert refusal(f"{head}.{forged}.{signature}").startswith("bad signature")


def test_revocation_is_asked_for_the_jti() -> None:
    asked: list[str] = []

    def revoked(jti: str) -> bool:
        asked.append(jti)
        return True

    with pytest.raises(InvalidToken, match="token revoked"):
        verify(token(), find, POLICY, NOW, revoked=revoked)
    assert asked == ["j1"]


def test_id_token_hint_accepts_jwt_or_no_typ_and_ignores_expiry() -> None:
    id_claims = {"iss": ISSUER, "sub": "alice", "aud": "app", "exp": 1, "iat": 0}
    for typ in ("JWT", None):
        assert verify_id_token_hint(token(id_claims, typ=typ), find, ISSUER)["sub"] == "alice"
    with pytest.raises(InvalidToken, match="typ 'at\\+jwt' is not jwt"):
        verify_id_token_hint(token(id_claims), find, ISSUER)
    with pytest.raises(InvalidToken, match="wrong issuer"):
        verify_id_token_hint(token({**id_claims, "iss": "https://other.example"}, typ="JWT"), find, ISSUER)


def test_verify_jws_checks_no_claims() -> None:
    header, payload = verify_jws(token({"anything": 1}), find, max_length=4096)
    assert header["kid"] == "k1" and payload == {"anything": 1}


SOURCE = Path(__file__).resolve().parents[2] / "mockidp"


def _files_matching(pattern: str) -> set[str]:
    found = set()
    for path in SOURCE.rglob("*.py"):
        if re.search(pattern, path.read_text("utf-8")):
            found.add(path.relative_to(SOURCE).as_posix())
    return found


def test_one_verifier_one_base64url_helper_one_bearer_reader() -> None:
    """joserfc verification, base64url padding and reading Authorization each have one owner."""
    assert _files_matching(r"deserialize_compact|jwt\.decode|deserialize_json") == {"verify.py"}
    assert _files_matching(r"urlsafe_b64(en|de)code") == {"base64url.py"}
    # client_auth reads the same header for HTTP Basic client authentication
    reads = r"""headers(\.get\(["']Authorization|\[["']Authorization["']\](?!\s*=))"""
    assert _files_matching(reads) == {"web/bearer.py", "web/client_auth.py"}


SEGMENT = r"[A-Za-z0-9_\-=+/. ]{0,40}"
JWS_LIKE = st.from_regex(rf"{SEGMENT}\.{SEGMENT}\.[A-Za-z0-9_\-]{{0,90}}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300) | JWS_LIKE)
def test_any_text_is_an_invalid_token(value: str) -> None:
    """Hostile input is refused with a reason, never another exception (a 500 at the endpoints)."""
    with pytest.raises(InvalidToken) as caught:
        verify(value, find, POLICY, NOW)
    assert caught.value.description


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_a_changed_byte_never_verifies(where: int, value: int) -> None:
    """Any one-character change to a valid token is refused, with a reason (never another error)."""
    good = token()
    index = where % len(good)
    changed = good[:index] + chr(value) + good[index + 1 :]
    if changed == good:
        return
    with pytest.raises(InvalidToken):
        verify(changed, find, POLICY, NOW)
