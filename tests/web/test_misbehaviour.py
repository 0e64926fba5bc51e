"""Protocol misbehaviour: a lying metadata issuer, tampered authorization responses, a bad JWKS."""

from __future__ import annotations

import base64
import hashlib
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from mockidp import ConfigError, MisbehaviourConfig, MockIdP
from mockidp.misbehaviour import UNEXPECTED_STATE, WRONG_ISSUER, Misbehaviour

CALLBACK = "http://127.0.0.1:8765/callback"


def authorization_response(
    idp: MockIdP, http: requests.Session, state: str | None = "st-1"
) -> dict[str, str]:
    """The query of the redirect back to the client (login: auto), each parameter once."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "response_type": "code",
        "client_id": "demo-app",
        "redirect_uri": CALLBACK,
        "scope": "openid",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if state is not None:
        params["state"] = state
    r = http.get(idp.url("authorize"), params=params, allow_redirects=False)
    assert r.status_code == 302, r.text
    parsed = parse_qs(urlsplit(r.headers["Location"]).query)
    assert all(len(v) == 1 for v in parsed.values())
    return {k: v[0] for k, v in parsed.items()}


def test_honest_by_default(mockidp: MockIdP, http: requests.Session) -> None:
    assert not mockidp.state.misbehaviour.config.active
    assert http.get(mockidp.metadata_url).json()["issuer"] == mockidp.issuer
    got = authorization_response(mockidp, http)
    assert (got["iss"], got["state"]) == (mockidp.issuer, "st-1")


def test_metadata_issuer_lies_until_reset(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.misbehave(metadata_issuer="https://evil.example")
    for url in (mockidp.metadata_url, mockidp.oauth_metadata_url):
        document = http.get(url).json()
        assert document["issuer"] == "https://evil.example"
        assert document["token_endpoint"] == mockidp.token_endpoint  # only the issuer lies
    mockidp.reset()
    assert http.get(mockidp.metadata_url).json()["issuer"] == mockidp.issuer


@pytest.mark.parametrize(
    ("switches", "iss", "state"),
    [
        ({"authorization_iss": "wrong"}, WRONG_ISSUER, "st-1"),
        ({"authorization_iss": "missing"}, None, "st-1"),
        ({"authorization_iss": "http://127.0.0.1/look-alike"}, "http://127.0.0.1/look-alike", "st-1"),
        ({"authorization_state": "wrong"}, "real", "st-1-tampered"),
        ({"authorization_state": "missing"}, "real", None),
        ({"authorization_iss": "missing", "authorization_state": "other"}, None, "other"),
    ],
)
def test_authorization_response_tampering(
    mockidp: MockIdP, http: requests.Session, switches: dict[str, str], iss: str | None, state: str | None
) -> None:
    mockidp.misbehave(**switches)
    got = authorization_response(mockidp, http)
    assert "code" in got
    assert got.get("iss") == (mockidp.issuer if iss == "real" else iss)
    assert got.get("state") == state


def test_wrong_state_without_a_client_state() -> None:
    switches = Misbehaviour(MisbehaviourConfig(authorization_state="wrong"))
    assert switches.tamper_authorization_response({"code": "c"}) == {"code": "c", "state": UNEXPECTED_STATE}
    assert Misbehaviour().tamper_authorization_response({"code": "c", "iss": "i"}) == {
        "code": "c",
        "iss": "i",
    }


def test_error_responses_are_tampered_too(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.misbehave(authorization_iss="missing", authorization_state="wrong")
    params = {"response_type": "code", "client_id": "demo-app", "redirect_uri": CALLBACK, "state": "s"}
    r = http.get(mockidp.url("authorize"), params=params, allow_redirects=False)  # no PKCE: an error
    assert r.status_code == 302
    got = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
    assert "error" in got
    assert "iss" not in got
    assert got["state"] == "s-tampered"


def test_jwks_drops_the_key_in_use(mockidp: MockIdP, http: requests.Session) -> None:
    first = mockidp.signing_key.kid
    mockidp.misbehave(jwks_drop_current=True)
    assert http.get(mockidp.jwks_uri).json()["keys"] == []
    mockidp.rotate_keys(keep=1)  # rotation: tokens now signed by a key the JWKS does not publish
    kids = [k["kid"] for k in http.get(mockidp.jwks_uri).json()["keys"]]
    assert kids == [first]
    assert mockidp.signing_key.kid != first
    mockidp.misbehave(jwks_drop_current=False)
    assert [k["kid"] for k in http.get(mockidp.jwks_uri).json()["keys"]] == [mockidp.signing_key.kid, first]


def test_jwks_unreachable(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.misbehave(jwks_unreachable=True)
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            http.get(mockidp.jwks_uri, timeout=5)
    assert http.get(mockidp.metadata_url).ok
    assert [r.status for r in mockidp.requests if r.endpoint == "jwks"] == [599, 599]
    mockidp.misbehave(jwks_unreachable=False)
    assert http.get(mockidp.jwks_uri).ok


def test_misbehave_keeps_other_switches_and_validates(mockidp: MockIdP) -> None:
    mockidp.misbehave(metadata_issuer="https://a.example")
    current = mockidp.misbehave(jwks_drop_current=True)
    assert current == MisbehaviourConfig(metadata_issuer="https://a.example", jwks_drop_current=True)
    with pytest.raises(ConfigError) as raised:
        mockidp.misbehave(jwks_gone=True)
    assert raised.value.key_path == "misbehaviour.jwks_gone"
    with pytest.raises(ConfigError):
        mockidp.misbehave(jwks_unreachable="yes")
    assert mockidp.state.misbehaviour.config == current


@pytest.mark.mockidp(misbehaviour={"metadata_issuer": "https://marker.example"})
def test_marker_key(mockidp: MockIdP, http: requests.Session) -> None:
    assert http.get(mockidp.metadata_url).json()["issuer"] == "https://marker.example"
    mockidp.reset()  # back to the config, which still says so
    assert http.get(mockidp.metadata_url).json()["issuer"] == "https://marker.example"


def test_yaml_key_with_line_numbers(tmp_path: Path, http: requests.Session) -> None:
    path = tmp_path / "idp.yaml"
    path.write_text("misbehaviour:\n  jwks_unreachable: true\n")
    with MockIdP(path) as idp, pytest.raises(requests.ConnectionError):
        http.get(idp.jwks_uri, timeout=5)
    path.write_text("misbehaviour:\n  metadata_issuer: 42\n")
    with pytest.raises(ConfigError) as raised:
        MockIdP(path)
    assert (raised.value.key_path, raised.value.line) == ("misbehaviour.metadata_issuer", 2)


def test_jwks_broken_key_is_listed_first_and_a_robust_client_skips_it(
    mockidp: MockIdP, http: requests.Session
) -> None:
    import jwt

    mockidp.misbehave(jwks_broken_key=True)
    keys = http.get(mockidp.jwks_uri).json()["keys"]
    assert keys[0]["kid"] == "mockidp-broken-key" and keys[1]["kid"] == mockidp.signing_key.kid
    token = mockidp.issue_token(client_id="demo-agent", audience="demo-api")
    key = jwt.PyJWKClient(mockidp.jwks_uri).get_signing_key_from_jwt(token)  # PyJWT skips the bad key
    assert jwt.decode(token, key, algorithms=["RS256"], audience="demo-api")["client_id"] == "demo-agent"
    mockidp.reset()
    assert [k["kid"] for k in http.get(mockidp.jwks_uri).json()["keys"]] == [mockidp.signing_key.kid]
