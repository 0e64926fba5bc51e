"""The controllable clock drives every token time and expiry, through every surface."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from userflow import claims_of

import mockidp as package
from mockidp import ConfigError, MockIdP

AGENT = ("demo-agent", "demo-agent-secret")
CALLBACK = "http://127.0.0.1:8765/callback"
T0 = 1_700_000_000


def machine_token(idp: MockIdP, http: requests.Session) -> dict[str, Any]:
    r = http.post(idp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT)
    assert r.status_code == 200, r.text
    return claims_of(r.json()["access_token"])


def authorization_code(idp: MockIdP, http: requests.Session) -> tuple[str, str]:
    """(code, verifier) for the demo app's user (login: auto)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "response_type": "code",
        "client_id": "demo-app",
        "redirect_uri": CALLBACK,
        "scope": "openid offline_access demo-api:read",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    r = http.get(idp.url("authorize"), params=params, allow_redirects=False)
    assert r.status_code == 302, r.text
    return parse_qs(urlsplit(r.headers["Location"]).query)["code"][0], verifier


def redeem(idp: MockIdP, http: requests.Session, code: str, verifier: str) -> requests.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
        "client_id": "demo-app",
    }
    return http.post(idp.token_endpoint, data=data)


def test_frozen_clock_sets_access_token_times(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.clock.freeze(T0)
    claims = machine_token(mockidp, http)
    assert (claims["iat"], claims["nbf"], claims["exp"]) == (T0, T0, T0 + 300)
    mockidp.clock.advance(1000)
    claims = machine_token(mockidp, http)
    assert (claims["iat"], claims["exp"]) == (T0 + 1000, T0 + 1300)
    assert claims_of(mockidp.issue_token())["iat"] == T0 + 1000
    assert mockidp.requests[-1].time == T0 + 1000


def test_running_clock_can_be_set_in_the_past(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.clock.set(T0)
    assert not mockidp.clock.frozen
    assert T0 <= machine_token(mockidp, http)["iat"] <= T0 + 5


def test_user_flow_tokens_follow_the_clock(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.clock.freeze(T0)
    code, verifier = authorization_code(mockidp, http)
    mockidp.clock.advance(10)
    r = redeem(mockidp, http, code, verifier)
    assert r.status_code == 200, r.text
    body = r.json()
    access, id_token = claims_of(body["access_token"]), claims_of(body["id_token"])
    assert (access["iat"], access["exp"]) == (T0 + 10, T0 + 10 + 300)
    assert (id_token["iat"], id_token["exp"], id_token["auth_time"]) == (T0 + 10, T0 + 310, T0)
    mockidp.clock.advance(86400 + 1)  # past refresh_token_ttl
    r = http.post(
        mockidp.token_endpoint,
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": "demo-app"},
    )
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")


def test_code_expires_by_the_clock(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.clock.freeze(T0)
    code, verifier = authorization_code(mockidp, http)
    mockidp.clock.advance(60)  # code_ttl: expired at exactly its lifetime
    r = redeem(mockidp, http, code, verifier)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")


def test_introspection_sees_expiry_by_the_clock(mockidp: MockIdP, http: requests.Session) -> None:
    mockidp.clock.freeze(T0)
    token = mockidp.issue_token()

    def active() -> bool:
        r = http.post(mockidp.url("introspect"), data={"token": token}, auth=AGENT)
        assert r.status_code == 200, r.text
        return bool(r.json()["active"])

    assert active()
    mockidp.clock.advance(299)
    assert active()
    mockidp.clock.advance(1)
    assert not active()


def test_control_api_minted_tokens_follow_the_clock(mockidp: MockIdP, http: requests.Session) -> None:
    control = mockidp.url("_mockidp")
    assert http.post(f"{control}/clock", json={"freeze": True, "set": T0}).json() == {
        "now": T0,
        "frozen": True,
    }
    r = http.post(f"{control}/clock", json={"advance": 42})
    assert r.json() == {"now": T0 + 42, "frozen": True}
    token = http.post(f"{control}/tokens", json={}).json()["access_token"]
    assert claims_of(token)["iat"] == T0 + 42
    assert mockidp.clock.now() == T0 + 42
    r = http.post(f"{control}/clock", json={"freeze": False})
    assert r.json()["frozen"] is False
    assert T0 + 42 <= mockidp.clock.now() < T0 + 60


@pytest.mark.mockidp(clock={"frozen_at": T0})
def test_marker_starts_frozen_and_reset_returns_there(mockidp: MockIdP, http: requests.Session) -> None:
    assert mockidp.clock.frozen
    assert machine_token(mockidp, http)["iat"] == T0
    mockidp.clock.advance(500)
    mockidp.reset()
    assert mockidp.clock.now() == T0


def test_yaml_clock_key(tmp_path: Path, http: requests.Session) -> None:
    path = tmp_path / "idp.yaml"
    path.write_text(f"clients:\n  - client_id: a\n    client_secret: s\nclock:\n  frozen_at: {T0}\n")
    with MockIdP(path) as idp:
        r = http.post(idp.token_endpoint, data={"grant_type": "client_credentials"}, auth=("a", "s"))
        assert claims_of(r.json()["access_token"])["iat"] == T0
    path.write_text("clock:\n  frozen_at: soon\n")
    with pytest.raises(ConfigError) as raised:
        MockIdP(path)
    assert (raised.value.key_path, raised.value.line) == ("clock.frozen_at", 2)


def test_no_module_reads_the_wall_clock_directly() -> None:
    """Only clock.py may call time.time(); everything else goes through state.clock."""
    root = Path(package.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "clock.py"
        and re.search(r"\btime\.time\(|datetime\.now\(|datetime\.utcnow\(", path.read_text("utf-8"))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('{"advance": 1e308}', "advance"),  # the audit's probe: every /token answered 500 after it
        ('{"advance": 1' + "0" * 400 + "}", "advance"),  # a JSON integer beyond float range
        ('{"set": 1e400}', "set"),  # Python's json reads this as infinity
        ('{"set": 253402300800}', "set"),  # 10000-01-01T00:00:00Z
        ('{"freeze": true, "set": -1}', "set"),
        ('{"set": 1700000000, "advance": 9e11}', "advance"),
        ('{"advance": -1e12}', "advance"),
    ],
)
def test_control_api_refuses_a_clock_out_of_range(
    mockidp: MockIdP, http: requests.Session, body: str, key: str
) -> None:
    control = mockidp.url("_mockidp")
    mockidp.clock.freeze(T0)
    r = http.post(f"{control}/clock", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["error"] == "invalid_request"
    assert r.json()["key_path"] == key
    assert "9999" in r.json()["error_description"]
    # nothing moved, not even the 'freeze'/'set' parts of a refused request
    assert http.get(f"{control}/clock").json() == {"now": T0, "frozen": True}
    assert machine_token(mockidp, http)["iat"] == T0


def test_running_clock_refuses_an_infinite_advance_and_token_still_works(
    mockidp: MockIdP, http: requests.Session
) -> None:
    r = http.post(mockidp.url("_mockidp/clock"), json={"advance": 1e308})
    assert r.status_code == 400
    r = http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT)
    assert r.status_code == 200, r.text
    code, verifier = authorization_code(mockidp, http)
    assert redeem(mockidp, http, code, verifier).status_code == 200


def test_the_last_second_of_year_9999_is_allowed(mockidp: MockIdP, http: requests.Session) -> None:
    r = http.post(mockidp.url("_mockidp/clock"), json={"freeze": True, "set": 253_402_300_799})
    assert r.status_code == 200, r.text
    assert machine_token(mockidp, http)["iat"] == 253_402_300_799


@pytest.mark.parametrize(
    "move",
    [
        lambda c: c.advance(float("inf")),
        lambda c: c.advance(1e308),
        lambda c: c.set(float("nan")),
        lambda c: c.set(253_402_300_800),
        lambda c: c.freeze(-5),
        lambda c: c.advance(10**400),
    ],
    ids=["advance-inf", "advance-1e308", "set-nan", "set-10000", "freeze-1969", "advance-huge-int"],
)
def test_library_clock_raises_a_clear_error_and_stays_put(mockidp: MockIdP, move: Any) -> None:
    mockidp.clock.freeze(T0)
    with pytest.raises(package.ClockError, match=r"1970.*9999") as raised:
        move(mockidp.clock)
    assert isinstance(raised.value, ValueError)
    assert mockidp.clock.now() == T0


def test_config_refuses_a_frozen_at_past_9999() -> None:
    with pytest.raises(ConfigError) as raised:
        MockIdP({"clock": {"frozen_at": 10**12}})
    assert raised.value.key_path == "clock.frozen_at"
