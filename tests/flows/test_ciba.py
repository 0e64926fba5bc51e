"""CIBA poll mode (OpenID CIBA Core 1.0) end to end with httpx: an agent asks a person to
approve, the person (``ciba.auto`` or the control API) approves, denies or lets it time out,
and the agent polls the token endpoint. ``binding_message`` reaches the person's side and RFC
9396 ``authorization_details`` reach the token response, the access token and introspection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from userflow import claims_of

from mockidp import MockIdP

CIBA = "urn:openid:params:grant-type:ciba"
AGENT = ("agent", "agent-secret")
PAYMENT = [
    {
        "type": "payment_initiation",
        "actions": ["initiate"],
        "instructedAmount": {"currency": "EUR", "amount": "42.00"},
    }
]
CONFIG: dict[str, Any] = {
    "users": [{"sub": "alice", "password": "pw"}, {"sub": "bob", "username": "bobby", "password": "pw"}],
    "clients": [
        {"client_id": "agent", "client_secret": "agent-secret", "grant_types": [CIBA]},
        {"client_id": "other", "client_secret": "other-secret", "grant_types": [CIBA]},
        {"client_id": "m2m", "client_secret": "m2m-secret", "grant_types": ["client_credentials"]},
    ],
    "clock": {"frozen_at": 1_800_000_000},
    "ciba": {"auto": "none", "interval": 2},
}


@pytest.fixture
def idp() -> Iterator[MockIdP]:
    with MockIdP(CONFIG) as server:
        yield server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10) as session:
        yield session


def ask(idp: MockIdP, client: httpx.Client, **form: str) -> httpx.Response:
    return ask_as(idp, client, AGENT, form)


def ask_as(idp: MockIdP, client: httpx.Client, auth: tuple[str, str], form: dict[str, str]) -> httpx.Response:
    form.setdefault("scope", "openid")
    if not {"login_hint", "id_token_hint", "login_hint_token"} & set(form):
        form["login_hint"] = "alice"
    return client.post(idp.url("bc-authorize"), data=form, auth=auth)


def started(idp: MockIdP, client: httpx.Client, **form: str) -> str:
    r = ask(idp, client, **form)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    return str(r.json()["auth_req_id"])


def poll(
    idp: MockIdP, client: httpx.Client, auth_req_id: str, auth: tuple[str, str] = AGENT
) -> httpx.Response:
    idp.clock.advance(60)  # a careful agent waits the interval between polls
    return client.post(idp.token_endpoint, data={"grant_type": CIBA, "auth_req_id": auth_req_id}, auth=auth)


def error(r: httpx.Response) -> str:
    assert r.status_code in (400, 401), r.text
    return str(r.json()["error"])


def test_metadata_advertises_poll_mode(idp: MockIdP, client: httpx.Client) -> None:
    meta = client.get(idp.metadata_url).json()
    assert meta["backchannel_authentication_endpoint"] == idp.url("bc-authorize")
    assert meta["backchannel_token_delivery_modes_supported"] == ["poll"]
    assert meta["backchannel_user_code_parameter_supported"] is False
    assert CIBA in meta["grant_types_supported"]


def test_person_approves_through_the_control_api(idp: MockIdP, client: httpx.Client) -> None:
    r = ask(
        idp,
        client,
        login_hint="bobby",
        binding_message="Pay 42 EUR to ACME",
        authorization_details=json.dumps(PAYMENT),
    )
    assert set(r.json()) == {"auth_req_id", "expires_in", "interval"} and r.json()["interval"] == 2
    auth_req_id = r.json()["auth_req_id"]
    assert error(poll(idp, client, auth_req_id)) == "authorization_pending"
    listed = client.get(idp.url("_mockidp/polled-requests")).json()["requests"]
    (shown,) = listed
    # what the person's device shows: who asks, the binding message and the details
    assert (shown["kind"], shown["client_id"], shown["subject"]) == ("ciba", "agent", "bob")
    assert shown["binding_message"] == "Pay 42 EUR to ACME" and shown["authorization_details"] == PAYMENT
    assert auth_req_id not in json.dumps(listed)
    approved = client.post(idp.url("_mockidp/polled-requests/approve"), json={"id": shown["id"]})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    tokens = poll(idp, client, auth_req_id)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["authorization_details"] == PAYMENT  # RFC 9396 section 7
    id_token = claims_of(body["id_token"])
    assert id_token["sub"] == "bob" and id_token["aud"] == "agent"
    access = claims_of(body["access_token"])
    assert access["sub"] == "bob" and access["authorization_details"] == PAYMENT  # section 9.1
    introspected = client.post(idp.url("introspect"), data={"token": body["access_token"]}, auth=AGENT).json()
    assert introspected["active"] and introspected["authorization_details"] == PAYMENT  # section 9.2
    assert error(poll(idp, client, auth_req_id)) == "invalid_grant"  # used up


def test_person_denies_through_the_control_api(idp: MockIdP, client: httpx.Client) -> None:
    auth_req_id = started(idp, client)
    r = client.post(idp.url("_mockidp/polled-requests/deny"), json={"auth_req_id": auth_req_id})
    assert r.json()["status"] == "denied"
    assert error(poll(idp, client, auth_req_id)) == "access_denied"
    assert error(poll(idp, client, auth_req_id)) == "access_denied"


def test_timeout_through_the_control_api_and_by_the_clock(idp: MockIdP, client: httpx.Client) -> None:
    first = started(idp, client)
    assert (
        client.post(idp.url("_mockidp/polled-requests/expire"), json={"auth_req_id": first}).status_code
        == 200
    )
    assert error(poll(idp, client, first)) == "expired_token"
    second = started(idp, client, requested_expiry="30")
    assert error(poll(idp, client, second)) == "expired_token"  # poll() waits 60 s


@pytest.mark.parametrize(("auto", "answer"), [("approve", 200), ("deny", "access_denied")])
def test_auto_decides_after_the_configured_polls(client: httpx.Client, auto: str, answer: int | str) -> None:
    with MockIdP({**CONFIG, "ciba": {"auto": auto, "after_polls": 2}}) as idp:
        auth_req_id = started(idp, client)
        assert error(poll(idp, client, auth_req_id)) == "authorization_pending"
        assert error(poll(idp, client, auth_req_id)) == "authorization_pending"
        r = poll(idp, client, auth_req_id)
        assert (r.status_code if answer == 200 else error(r)) == answer


def test_polling_too_fast_gets_slow_down(idp: MockIdP, client: httpx.Client) -> None:
    auth_req_id = started(idp, client)
    form = {"grant_type": CIBA, "auth_req_id": auth_req_id}
    assert error(client.post(idp.token_endpoint, data=form, auth=AGENT)) == "authorization_pending"
    assert error(client.post(idp.token_endpoint, data=form, auth=AGENT)) == "slow_down"
    assert idp.polled_requests()[0]["interval"] == 7


def test_an_id_token_hint_names_the_person(idp: MockIdP, client: httpx.Client) -> None:
    first = started(idp, client, login_hint="bobby")
    idp.approve(auth_req_id=first)
    id_token = poll(idp, client, first).json()["id_token"]
    second = started(idp, client, id_token_hint=id_token)
    assert idp.polled_requests()[-1]["subject"] == "bob"
    assert second


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"login_hint": "nobody"}, "unknown_user_id"),
        ({"login_hint_token": "x"}, "invalid_request"),
        ({"login_hint": "alice", "id_token_hint": "x"}, "invalid_request"),
        ({"id_token_hint": "not-a-jwt"}, "invalid_request"),
        ({"scope": "profile"}, "invalid_request"),
        ({"user_code": "1234"}, "invalid_request"),
        ({"request": "eyJ.x.y"}, "invalid_request"),
        ({"requested_expiry": "0"}, "invalid_request"),
        ({"binding_message": "line one\nline two"}, "invalid_binding_message"),
        ({"binding_message": "x" * 200}, "invalid_binding_message"),
        ({"authorization_details": "{}"}, "invalid_authorization_details"),
        ({"authorization_details": "[{}]"}, "invalid_authorization_details"),
        ({"authorization_details": '[{"type": "x", "actions": "read"}]'}, "invalid_authorization_details"),
        ({"authorization_details": "[1]"}, "invalid_authorization_details"),
        ({"authorization_details": "not json"}, "invalid_authorization_details"),
    ],
)
def test_bad_requests_get_the_spec_errors(
    idp: MockIdP, client: httpx.Client, form: dict[str, str], expected: str
) -> None:
    assert error(ask(idp, client, **form)) == expected
    assert idp.polled_requests() == []


def test_only_authenticated_clients_with_the_grant(idp: MockIdP, client: httpx.Client) -> None:
    assert error(ask_as(idp, client, ("agent", "wrong"), {})) == "invalid_client"
    public = client.post(
        idp.url("bc-authorize"), data={"client_id": "agent", "scope": "openid", "login_hint": "alice"}
    )
    assert error(public) == "invalid_client"
    assert error(ask_as(idp, client, ("m2m", "m2m-secret"), {})) == "unauthorized_client"
    auth_req_id = started(idp, client)
    idp.approve()
    assert error(poll(idp, client, auth_req_id, auth=("other", "other-secret"))) == "invalid_grant"
    assert poll(idp, client, auth_req_id).status_code == 200


def test_disabled_means_not_served_and_not_advertised(client: httpx.Client) -> None:
    with MockIdP({**CONFIG, "ciba": {"enabled": False}}) as idp:
        meta = client.get(idp.metadata_url).json()
        assert (
            not any(k.startswith("backchannel_") for k in meta) and CIBA not in meta["grant_types_supported"]
        )
        assert ask(idp, client).status_code == 404
        assert error(poll(idp, client, "ar_x")) == "unsupported_grant_type"


def test_a_public_ciba_client_is_a_config_error() -> None:
    from mockidp.config import IdPConfig
    from mockidp.errors import ConfigError

    with pytest.raises(ConfigError, match="confidential") as caught:
        IdPConfig.from_dict({"clients": [{"client_id": "p", "grant_types": [CIBA]}]})
    assert caught.value.key_path == "clients[0].grant_types"
