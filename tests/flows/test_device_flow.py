"""The device authorization grant (RFC 8628) over real HTTP: the endpoint, the polling answers
(authorization_pending, slow_down, access_denied, expired_token), single use, and the switches."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from userflow import claims_of

from mockidp import MockIdP, redacted

DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
#: RFC 8628 section 6.1: the base-20 consonant alphabet, formatted XXXX-XXXX
USER_CODE = re.compile(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}")
CONFIG: dict[str, Any] = {
    "users": [{"sub": "alice", "password": "pw"}, {"sub": "bob", "username": "bobby", "password": "pw"}],
    "clients": [
        {
            "client_id": "tv",
            "grant_types": [DEVICE, "refresh_token"],
            "scopes": ["openid", "profile", "offline_access", "read"],
            "audiences": ["https://api.example"],
        },
        {"client_id": "kiosk", "client_secret": "kiosk-secret", "grant_types": [DEVICE]},
        {"client_id": "web", "grant_types": ["authorization_code"], "redirect_uris": ["http://127.0.0.1/cb"]},
    ],
    "apis": [{"audience": "https://api.example", "scopes": ["read"]}],
    "clock": {"frozen_at": 1_800_000_000},
    "device": {"interval": 5},
}


@pytest.fixture
def idp() -> Iterator[MockIdP]:
    with MockIdP(CONFIG) as server:
        yield server


def start(idp: MockIdP, http: requests.Session, **form: str) -> dict[str, Any]:
    form.setdefault("client_id", "tv")
    r = http.post(idp.url("device_authorization"), data=form)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    return dict(r.json())


def poll(idp: MockIdP, http: requests.Session, device_code: str, client_id: str = "tv") -> requests.Response:
    form = {"grant_type": DEVICE, "device_code": device_code, "client_id": client_id}
    return http.post(idp.token_endpoint, data=form)


def error(r: requests.Response) -> str:
    assert r.status_code == 400, r.text
    return str(r.json()["error"])


def test_the_device_authorization_response(idp: MockIdP, http: requests.Session) -> None:
    out = start(idp, http, scope="openid profile")
    assert set(out) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert USER_CODE.fullmatch(out["user_code"])
    assert out["verification_uri"] == idp.url("device")
    assert out["verification_uri_complete"] == f"{idp.url('device')}?user_code={out['user_code']}"
    assert (out["expires_in"], out["interval"]) == (600, 5)
    meta = http.get(idp.metadata_url).json()
    assert meta["device_authorization_endpoint"] == idp.url("device_authorization")
    assert DEVICE in meta["grant_types_supported"]


def test_login_auto_approves_the_hinted_user_at_once(idp: MockIdP, http: requests.Session) -> None:
    out = start(idp, http, scope="openid offline_access", login_hint="bobby")
    r = poll(idp, http, out["device_code"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert claims_of(body["id_token"])["sub"] == "bob" and claims_of(body["id_token"])["aud"] == "tv"
    assert "nonce" not in claims_of(body["id_token"])
    assert claims_of(body["access_token"])["sub"] == "bob" and body["refresh_token"]
    # single use: the device code is spent
    assert error(poll(idp, http, out["device_code"])) == "invalid_grant"


def test_without_a_hint_the_first_user_approves(idp: MockIdP, http: requests.Session) -> None:
    out = start(idp, http, scope="read", resource="https://api.example")
    body = poll(idp, http, out["device_code"]).json()
    claims = claims_of(body["access_token"])
    assert claims["sub"] == "alice" and claims["aud"] == "https://api.example" and body["scope"] == "read"


def test_pending_then_slow_down_then_tokens(idp: MockIdP, http: requests.Session) -> None:
    idp.reconfigure(device={"interval": 5, "approve_after_polls": 2})
    code = start(idp, http)["device_code"]
    assert error(poll(idp, http, code)) == "authorization_pending"
    too_fast = poll(idp, http, code)
    assert error(too_fast) == "slow_down"
    assert "10 seconds" in too_fast.json()["error_description"]
    idp.clock.advance(5)  # the old interval is no longer enough (RFC 8628 section 3.5)
    assert error(poll(idp, http, code)) == "slow_down"
    idp.clock.advance(15)
    assert error(poll(idp, http, code)) == "authorization_pending"
    assert idp.polled_requests()[0]["interval"] == 15
    idp.clock.advance(15)
    assert poll(idp, http, code).status_code == 200


def test_deny_and_expire_from_the_library_and_the_clock(idp: MockIdP, http: requests.Session) -> None:
    idp.reconfigure(device={"interval": 5, "approve_after_polls": 5})
    first, second, third = (start(idp, http) for _ in range(3))
    idp.deny(user_code=first["user_code"].replace("-", "").lower())  # as a person types it
    assert error(poll(idp, http, first["device_code"])) == "access_denied"
    idp.expire_request(device_code=second["device_code"])
    assert error(poll(idp, http, second["device_code"])) == "expired_token"
    assert error(poll(idp, http, third["device_code"])) == "authorization_pending"
    idp.clock.advance(600)
    assert error(poll(idp, http, third["device_code"])) == "expired_token"


def test_approve_from_the_control_api_as_another_user(idp: MockIdP, http: requests.Session) -> None:
    idp.reconfigure(login="form")
    code = start(idp, http, scope="openid")
    assert error(poll(idp, http, code["device_code"])) == "authorization_pending"
    r = http.post(
        idp.url("_mockidp/polled-requests/approve"), json={"user_code": code["user_code"], "subject": "bob"}
    )
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    idp.clock.advance(5)
    assert claims_of(poll(idp, http, code["device_code"]).json()["id_token"])["sub"] == "bob"
    again = http.post(idp.url("_mockidp/polled-requests/deny"), json={"user_code": code["user_code"]})
    assert again.status_code == 400 and "no longer waiting" in again.json()["error_description"]


def test_client_binding_and_authentication(idp: MockIdP, http: requests.Session) -> None:
    code = start(idp, http)["device_code"]
    stolen = poll(idp, http, code, client_id="kiosk")
    assert stolen.status_code == 401  # kiosk must authenticate
    r = http.post(
        idp.token_endpoint, data={"grant_type": DEVICE, "device_code": code}, auth=("kiosk", "kiosk-secret")
    )
    assert error(r) == "invalid_grant"  # another client's device code
    assert http.post(idp.url("device_authorization"), data={"client_id": "kiosk"}).status_code == 401
    ok = http.post(
        idp.url("device_authorization"), data={"login_hint": "alice"}, auth=("kiosk", "kiosk-secret")
    )
    assert ok.status_code == 200
    refused = http.post(idp.url("device_authorization"), data={"client_id": "web"})
    assert refused.json()["error"] == "unauthorized_client"
    assert (
        http.post(idp.url("device_authorization"), data={"client_id": "tv", "scope": "write"}).json()["error"]
        == "invalid_scope"
    )


def test_reset_forgets_every_request_and_the_journal_hides_the_codes(
    idp: MockIdP, http: requests.Session
) -> None:
    out = start(idp, http)
    poll(idp, http, out["device_code"])
    token_request = next(r for r in idp.requests if r.endpoint == "token")
    assert token_request.form["device_code"] == [redacted(out["device_code"])]
    idp.reset()
    assert idp.polled_requests() == []
    assert error(poll(idp, http, out["device_code"])) == "invalid_grant"


def test_disabled_means_not_served_and_not_advertised(http: requests.Session) -> None:
    with MockIdP({**CONFIG, "device": {"enabled": False}}) as idp:
        meta = http.get(idp.metadata_url).json()
        assert "device_authorization_endpoint" not in meta and DEVICE not in meta["grant_types_supported"]
        assert http.post(idp.url("device_authorization"), data={"client_id": "tv"}).status_code == 404
        assert http.get(idp.url("device")).status_code == 404
        assert error(poll(idp, http, "dc_whatever")) == "unsupported_grant_type"


@pytest.mark.parametrize(
    ("device", "key"),
    [
        ({"interval": 0}, "device.interval"),
        ({"expires_in": -1}, "device.expires_in"),
        ({"approve_after_polls": -1}, "device.approve_after_polls"),
    ],
)
def test_config_errors_name_the_key(device: dict[str, int], key: str) -> None:
    from mockidp.config import IdPConfig
    from mockidp.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        IdPConfig.from_dict({"device": device})
    assert caught.value.key_path == key


def test_dynamic_registration_knows_the_polled_grants(idp: MockIdP, http: requests.Session) -> None:
    """RFC 7591: a device client with refresh tokens registers; a public CIBA client is refused."""
    device = {"grant_types": [DEVICE, "refresh_token"], "token_endpoint_auth_method": "none"}
    r = http.post(idp.url("register"), json=device)
    assert r.status_code == 201, r.text
    out = start(idp, http, client_id=r.json()["client_id"], scope="openid offline_access")
    assert "refresh_token" in poll(idp, http, out["device_code"], client_id=r.json()["client_id"]).json()
    ciba = {"grant_types": ["urn:openid:params:grant-type:ciba"], "token_endpoint_auth_method": "none"}
    refused = http.post(idp.url("register"), json=ciba)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_client_metadata"
