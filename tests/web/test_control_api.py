"""The HTTP control API over real loopback HTTP, its OpenAPI document, and its loopback guard."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
import requests
from aiohttp.test_utils import make_mocked_request
from fuzzing import send
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from userflow import claims_of

from mockidp import MockIdP, redacted
from mockidp.errors import OAuthError
from mockidp.web.control import ROUTES, _guarded
from mockidp.web.origin import host_name, is_loopback

AGENT = ("demo-agent", "demo-agent-secret")

#: a request body that the operation accepts, for the "every documented path answers" test
EXAMPLES: dict[tuple[str, str], Any] = {
    ("post", "/tokens"): {"scope": "demo-api:read"},
    ("post", "/faults"): {"endpoint": "jwks", "kind": "status"},
    ("post", "/misbehaviour"): {"jwks_drop_current": False},
    ("post", "/clock"): {"advance": 1},
    ("post", "/clients"): {"client_id": "extra", "client_secret": "s"},
    ("post", "/users"): {"sub": "bob", "password": "pw"},
    ("post", "/apis"): {"audience": "https://api.example", "scopes": ["a"]},
    ("post", "/rotate-keys"): {"keep": 1},
    ("post", "/token-defects"): {"defects": ["expired"]},
    ("post", "/token-claims"): {"claims": {"roles": ["admin"]}, "times": 1},
}


def check_against_document(document: dict[str, Any], path: str, method: str, r: requests.Response) -> None:
    """The answer matches the schema the document gives for its status (refs resolved in the document)."""
    answer = document["paths"][path][method]["responses"][str(r.status_code)]
    if "content" not in answer:
        return
    pointer = "/".join(
        p.replace("~", "~0").replace("/", "~1")
        for p in ("#", "paths", path, method, "responses", str(r.status_code), "content", "application/json")
    )
    root = {
        **document,
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": pointer + "/schema",
    }
    Draft202012Validator(root).validate(r.json())


def start_ciba(mockidp: MockIdP, http: requests.Session) -> str:
    """A CIBA request waiting for its person (its auth_req_id)."""
    if mockidp.state.store.client("hitl") is None:
        mockidp.add_client(
            client_id="hitl", client_secret="s", grant_types=["urn:openid:params:grant-type:ciba"]
        )
    user = next(iter(mockidp.users))
    r = http.post(
        mockidp.url("bc-authorize"), data={"scope": "openid", "login_hint": user}, auth=("hitl", "s")
    )
    assert r.status_code == 200, r.text
    return str(r.json()["auth_req_id"])


@pytest.fixture
def control(mockidp: MockIdP) -> str:
    return mockidp.url("_mockidp")


def test_openapi_document_is_valid_and_every_path_answers(
    mockidp: MockIdP, http: requests.Session, control: str
) -> None:
    document = http.get(f"{control}/openapi.json").json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": control}]
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert documented == {(method, path) for method, path, _ in ROUTES}
    for path, operations in document["paths"].items():
        for method in operations:
            body = EXAMPLES.get((method, path))
            if path in ("/activate-key", "/retire-key"):  # a kid only known now
                current = mockidp.signing_key.kid
                others = [k.kid for k in mockidp.state.keys.keys if k.kid != current]
                body = {"kid": current if path == "/activate-key" else others[0]}
            if path.startswith("/polled-requests/"):  # needs a request waiting for a person
                body = {"auth_req_id": start_ciba(mockidp, http)}
            r = http.request(method, f"{control}{path}", json=body)
            assert r.status_code in (200, 201), (method, path, r.text)
            assert r.headers["Content-Type"].startswith("application/json")
            check_against_document(document, path, method, r)


def test_mint_token(mockidp: MockIdP, http: requests.Session, control: str) -> None:
    body = {
        "subject": "alice",
        "audience": "demo-api",
        "scope": ["demo-api:read"],
        "claims": {"tenant": "t1"},
    }
    r = http.post(f"{control}/tokens", json=body)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    claims = claims_of(r.json()["access_token"])
    assert (claims["sub"], claims["aud"], claims["scope"], claims["tenant"]) == (
        "alice",
        "demo-api",
        "demo-api:read",
        "t1",
    )
    assert claims["iss"] == mockidp.issuer


@pytest.mark.parametrize(
    ("body", "status", "error", "key_path"),
    [
        ({"client_id": "nobody"}, 400, "invalid_request", None),
        ({"scope": "admin"}, 400, "invalid_scope", None),
        ({"audience": "https://elsewhere.example"}, 400, "invalid_target", None),
        ({"colour": "red"}, 400, "invalid_request", "colour"),
        ({"claims": ["x"]}, 400, "invalid_request", "claims"),
        ({"defects": "expired"}, 400, "invalid_request", "defects"),
        ([], 400, "invalid_request", None),
    ],
)
def test_mint_token_errors(
    http: requests.Session, control: str, body: Any, status: int, error: str, key_path: str | None
) -> None:
    r = http.post(f"{control}/tokens", json=body)
    assert (r.status_code, r.json()["error"]) == (status, error)
    assert r.json().get("key_path") == key_path


def test_faults_queue_list_and_clear(mockidp: MockIdP, http: requests.Session, control: str) -> None:
    r = http.post(
        f"{control}/faults",
        json=[
            {"endpoint": "token", "kind": "rate_limited", "times": 2},
            {"endpoint": "jwks", "kind": "drop"},
        ],
    )
    assert r.status_code == 201, r.text
    data = {"grant_type": "client_credentials"}
    assert http.post(mockidp.token_endpoint, data=data, auth=AGENT).status_code == 429
    listed = http.get(f"{control}/faults").json()["faults"]
    assert [(f["endpoint"], f["kind"], f["remaining"]) for f in listed] == [
        ("token", "rate_limited", 1),
        ("jwks", "drop", 1),
    ]
    assert http.delete(f"{control}/faults").json() == {"faults": []}
    assert mockidp.faults == []
    assert http.post(mockidp.token_endpoint, data=data, auth=AGENT).status_code == 200


def test_fault_errors_name_the_key(http: requests.Session, control: str) -> None:
    r = http.post(f"{control}/faults", json=[{"endpoint": "jwks", "kind": "status"}, {"endpoint": "jwks"}])
    assert r.status_code == 400
    assert r.json()["key_path"] == "faults[1]"
    assert "missing required key 'kind'" in r.json()["error_description"]
    r = http.post(f"{control}/faults", json={"endpoint": "token", "kind": "latency", "delay": "slow"})
    assert r.json()["key_path"] == "faults[0].delay"
    assert http.get(f"{control}/faults").json() == {"faults": []}  # nothing half-queued
    r = http.post(f"{control}/faults", json={"endpoint": "tokne", "kind": "unavailable"})
    assert (r.status_code, r.json()["key_path"]) == (400, "faults[0].endpoint")
    assert http.get(f"{control}/faults").json() == {"faults": []}


def test_misbehaviour(mockidp: MockIdP, http: requests.Session, control: str) -> None:
    r = http.post(f"{control}/misbehaviour", json={"metadata_issuer": "https://evil.example"})
    assert r.json()["metadata_issuer"] == "https://evil.example"
    assert http.get(mockidp.metadata_url).json()["issuer"] == "https://evil.example"
    assert http.get(f"{control}/misbehaviour").json()["metadata_issuer"] == "https://evil.example"
    r = http.post(f"{control}/misbehaviour", json={"jwks_unreachable": "yes"})
    assert (r.status_code, r.json()["key_path"]) == (400, "misbehaviour.jwks_unreachable")
    assert http.delete(f"{control}/misbehaviour").json()["metadata_issuer"] is None
    assert http.get(mockidp.metadata_url).json()["issuer"] == mockidp.issuer


def test_journal_read_and_clear(mockidp: MockIdP, http: requests.Session, control: str) -> None:
    http.post(
        mockidp.token_endpoint,
        data={"grant_type": "client_credentials", "client_id": AGENT[0], "client_secret": AGENT[1]},
    )
    records = http.get(f"{control}/journal").json()["requests"]
    assert [(r["endpoint"], r["status"], r["client_id"]) for r in records] == [("token", 200, "demo-agent")]
    assert records[0]["form"]["client_secret"] == [redacted(AGENT[1])]
    everything = http.get(f"{control}/journal", params={"include_control": "true"}).json()["requests"]
    assert [r["endpoint"] for r in everything] == ["token", "control"]
    assert http.delete(f"{control}/journal").json() == {"requests": []}
    assert http.get(f"{control}/journal").json() == {"requests": []}


@pytest.mark.parametrize(
    ("body", "key_path"),
    [
        ({"freeze": "yes"}, "freeze"),
        ({"advance": "1h"}, "advance"),
        ({"set": True}, "set"),
        ({"at": 1}, "at"),
    ],
)
def test_clock_errors(http: requests.Session, control: str, body: dict[str, Any], key_path: str) -> None:
    r = http.post(f"{control}/clock", json=body)
    assert (r.status_code, r.json()["key_path"]) == (400, key_path)


@pytest.mark.parametrize("constant", ["Infinity", "-Infinity", "NaN"])
def test_non_json_numbers_are_refused(
    mockidp: MockIdP, http: requests.Session, control: str, constant: str
) -> None:
    """Python's json accepts NaN/Infinity; an infinite clock made every later token request a 500."""
    before = mockidp.clock.now()
    r = http.post(f"{control}/clock", data=f'{{"advance": {constant}}}')
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
    assert abs(mockidp.clock.now() - before) < 60
    r = http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT)
    assert r.status_code == 200, r.text


def test_registrations(mockidp: MockIdP, http: requests.Session, control: str) -> None:
    r = http.post(f"{control}/apis", json={"audience": "https://orders.example", "scopes": ["orders:read"]})
    assert r.status_code == 201, r.text
    client = {
        "client_id": "orders-bot",
        "client_secret": "bot-secret",
        "audiences": ["https://orders.example"],
        "scopes": ["orders:read"],
    }
    r = http.post(f"{control}/clients", json=client)
    assert r.json()["clients"][0]["client_id"] == "orders-bot"
    r = http.post(
        mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=("orders-bot", "bot-secret")
    )
    assert claims_of(r.json()["access_token"])["aud"] == "https://orders.example"
    r = http.post(
        f"{control}/users", json=[{"sub": "bob", "password": "pw", "claims": {"email": "b@x.example"}}]
    )
    assert r.status_code == 201
    assert mockidp.users["bob"].claims["email"] == "b@x.example"


@pytest.mark.parametrize(
    ("section", "body", "key_path"),
    [
        ("clients", {"client_id": "c", "client_secret": 7}, "clients[0].client_secret"),
        ("clients", {"client_id": "c", "grant_types": ["client_credentials"]}, "clients[0].grant_types"),
        ("clients", {"client_id": "c", "audiences": ["https://nowhere.example"]}, "clients[0].audiences[0]"),
        ("users", [{"sub": "a"}, {"password": "x"}], "users[1]"),
        ("apis", {"audience": "a", "scopes": "x"}, "apis[0].scopes"),
        ("apis", "not an object", "apis[0]"),
    ],
)
def test_registration_errors(
    mockidp: MockIdP, http: requests.Session, control: str, section: str, body: Any, key_path: str
) -> None:
    before = (mockidp.clients, mockidp.users, mockidp.apis)
    r = http.post(f"{control}/{section}", json=body)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
    assert r.json().get("key_path", "") == key_path
    assert (mockidp.clients, mockidp.users, mockidp.apis) == before


def test_rotate_keys_and_reset(mockidp: MockIdP, http: requests.Session, control: str) -> None:
    first = mockidp.signing_key.kid
    r = http.post(f"{control}/rotate-keys")
    assert r.json()["kid"] == mockidp.signing_key.kid != first
    assert [k["kid"] for k in http.get(mockidp.jwks_uri).json()["keys"]] == [r.json()["kid"], first]
    r = http.post(f"{control}/rotate-keys", json={"keep": 0})
    assert [k["kid"] for k in r.json()["jwks"]["keys"]] == [r.json()["kid"]]
    http.post(f"{control}/faults", json={"endpoint": "jwks", "kind": "status", "times": "always"})
    http.post(f"{control}/clients", json={"client_id": "temp", "client_secret": "x"})
    assert http.post(f"{control}/reset").json() == {"reset": True}
    assert mockidp.signing_key.kid == first
    assert "temp" not in mockidp.clients
    assert http.get(mockidp.jwks_uri).status_code == 200


def test_bad_bodies_are_json_errors(http: requests.Session, control: str) -> None:
    r = http.post(f"{control}/faults", data="{not json", headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
    r = http.get(f"{control}/nothing-here")
    assert (r.status_code, r.json()["error"]) == (404, "not_found")
    r = http.put(f"{control}/clock", json={})
    assert r.status_code == 405
    assert r.json()["error"] == "invalid_request"


@pytest.mark.mockidp(issuer="/tenant-a")
def test_control_api_lives_under_the_issuer_path(mockidp: MockIdP, http: requests.Session) -> None:
    assert mockidp.url("_mockidp/clock").startswith(mockidp.base_url + "/tenant-a/_mockidp/")
    assert http.get(mockidp.url("_mockidp/clock")).status_code == 200
    assert http.get(mockidp.base_url + "/_mockidp/clock").status_code == 404


@pytest.mark.parametrize(
    ("remote", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.1", False),
        ("192.168.1.20", False),
        ("::ffff:10.0.0.1", False),
        ("2001:db8::1", False),
        ("", False),
        (None, False),
        ("not-an-address", False),
    ],
)
def test_is_loopback(remote: str | None, allowed: bool) -> None:
    assert is_loopback(remote) is allowed


@pytest.mark.asyncio
async def test_non_loopback_caller_is_refused(mockidp: MockIdP) -> None:
    called = mock.AsyncMock()
    transport = mock.Mock()
    transport.get_extra_info.return_value = ("203.0.113.9", 40000)
    loopback = {"Host": "127.0.0.1:9400"}
    request = make_mocked_request("GET", "/_mockidp/journal", headers=loopback, transport=transport)
    assert request.remote == "203.0.113.9"
    with pytest.raises(OAuthError) as raised:
        await _guarded(called)(request)
    assert (raised.value.status, raised.value.error) == (403, "access_denied")
    called.assert_not_awaited()
    transport.get_extra_info.return_value = ("127.0.0.1", 40000)
    await _guarded(called)(
        make_mocked_request("GET", "/_mockidp/journal", headers=loopback, transport=transport)
    )
    called.assert_awaited_once()


def test_mint_token_with_defects(mockidp: MockIdP, http: requests.Session, control: str) -> None:
    r = http.post(f"{control}/tokens", json={"defects": ["expired"]})
    assert r.status_code == 200, r.text
    assert claims_of(r.json()["access_token"])["exp"] < mockidp.clock.now()
    r = http.post(f"{control}/tokens", json={"defects": ["no-such-defect"]})
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
    assert "no-such-defect" in r.json()["error_description"]


def test_planned_token_defects(mockidp: MockIdP, http: requests.Session, control: str) -> None:
    r = http.post(f"{control}/token-defects", json={"defects": ["aud-wrong"], "client_id": "demo-agent"})
    assert r.status_code == 201
    assert r.json()["token_defects"] == [
        {"defects": ["aud-wrong"], "token": "access", "client_id": "demo-agent", "times": 1}
    ]
    first = http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT)
    second = http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT)
    assert claims_of(first.json()["access_token"])["aud"] != "demo-api"  # planned once
    assert claims_of(second.json()["access_token"])["aud"] == "demo-api"
    assert http.get(f"{control}/token-defects").json() == {"token_defects": []}
    http.post(f"{control}/token-defects", json=[{"defects": ["expired"], "times": None}])
    assert http.delete(f"{control}/token-defects").json() == {"token_defects": []}
    third = http.post(mockidp.token_endpoint, data={"grant_type": "client_credentials"}, auth=AGENT)
    assert claims_of(third.json()["access_token"])["aud"] == "demo-api"


@pytest.mark.parametrize(
    ("body", "key_path"),
    [
        ({"defects": ["no-such-defect"]}, "token_defects[0].defects"),
        ({"defects": ["expired"], "token": "refresh"}, "token_defects[0].token"),
        ([{"defects": ["expired"]}, {"defects": "expired"}], "token_defects[1].defects"),
    ],
)
def test_planned_token_defect_errors_name_the_key(
    mockidp: MockIdP, http: requests.Session, control: str, body: Any, key_path: str
) -> None:
    r = http.post(f"{control}/token-defects", json=body)
    assert r.status_code == 400
    assert r.json()["key_path"] == key_path
    assert http.get(f"{control}/token-defects").json() == {"token_defects": []}  # all or nothing


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}],
)
def test_cross_site_browser_requests_are_refused(
    mockidp: MockIdP, http: requests.Session, control: str, headers: dict[str, str]
) -> None:
    r = http.post(f"{control}/reset", headers=headers)
    assert r.status_code == 403
    assert r.json()["error"] == "access_denied"


def test_same_origin_and_plain_clients_are_served(
    mockidp: MockIdP, http: requests.Session, control: str
) -> None:
    origin = mockidp.issuer.split("/", 3)
    own = "/".join(origin[:3])
    assert http.post(f"{control}/reset", headers={"Origin": own}).status_code == 200
    assert http.post(f"{control}/reset", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    assert http.post(f"{control}/reset").status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "rebind.attacker.example:{port}",
        "rebind.attacker.example",
        "127.0.0.1.attacker.example:{port}",
        "localhost.attacker.example:{port}",
        "10.0.0.1:{port}",
        "[2001:db8::1]:{port}",
    ],
)
@pytest.mark.parametrize(("method", "path"), [("GET", "journal"), ("POST", "reset"), ("GET", "openapi.json")])
def test_dns_rebound_host_is_refused(mockidp: MockIdP, host: str, method: str, path: str) -> None:
    """A page whose name was rebound to 127.0.0.1 connects from loopback but sends its own Host."""
    mockidp.clock.freeze()
    target = f"{mockidp.state.issuer_path}/_mockidp/{path}"
    answer = send(mockidp.port, method, target, [("Host", host.format(port=mockidp.port))], None)
    assert answer.status == 403
    assert answer.headers["content-type"].startswith("application/json")
    body = json.loads(answer.body)
    assert body["error"] == "access_denied"
    assert "host" in body["error_description"]
    assert set(body) == {"error", "error_description"}  # nothing of the journal or the document
    assert mockidp.clock.frozen  # the refused reset changed nothing


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:{port}",
        "localhost:{port}",
        "LOCALHOST",
        "localhost.:{port}",
        "127.9.8.7:{port}",
        "[::1]:{port}",
    ],
)
def test_loopback_host_names_are_served(mockidp: MockIdP, host: str) -> None:
    answer = send(mockidp.port, "GET", "/_mockidp/clock", [("Host", host.format(port=mockidp.port))], None)
    assert answer.status == 200, answer.body


def test_the_issuers_own_host_is_served(http: requests.Session) -> None:
    """Behind a proxy or with an absolute issuer, the issuer's host name is the server's own."""
    with MockIdP(issuer="https://idp.example:8443") as idp:
        for host, status in (("idp.example:8443", 200), ("IDP.example", 200), ("other.example", 403)):
            answer = send(idp.port, "GET", "/_mockidp/clock", [("Host", host)], None)
            assert answer.status == status, host


def test_other_endpoints_do_not_check_host(mockidp: MockIdP) -> None:
    """Only the control API is guarded: a proxy may forward public endpoints under any name."""
    answer = send(mockidp.port, "GET", "/jwks", [("Host", "idp.behind-a-proxy.example")], None)
    assert answer.status == 200


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("127.0.0.1:9400", "127.0.0.1"),
        ("[::1]:9400", "::1"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("LocalHost:80", "localhost"),
        ("example.com", "example.com"),
        ("example.com:x", "example.com:x"),
    ],
)
def test_host_name(host: str, name: str) -> None:
    assert host_name(host) == name


def test_openapi_config_bodies_are_generated_from_the_config_models(
    http: requests.Session, control: str
) -> None:
    """Adding a config field documents it: the bodies are the dataclasses' keys, no more."""
    import dataclasses

    from mockidp import ApiConfig, ClientConfig, MisbehaviourConfig, UserConfig
    from mockidp.config import TokenClaimsConfig, TokenDefectsConfig

    schemas = http.get(f"{control}/openapi.json").json()["components"]["schemas"]
    models: dict[str, type] = {
        "Client": ClientConfig,
        "User": UserConfig,
        "Api": ApiConfig,
        "Misbehaviour": MisbehaviourConfig,
        "TokenDefectPlan": TokenDefectsConfig,
        "TokenClaimsPlan": TokenClaimsConfig,
    }
    for name, model in models.items():
        keys = [f.name for f in dataclasses.fields(model) if f.init]
        assert list(schemas[name]["properties"]) == keys, name
        assert schemas[name]["additionalProperties"] is False
    # descriptions come from the fields' ``#:`` comments; the control API's own default stays
    assert "public clients" in schemas["Client"]["properties"]["token_endpoint_auth_method"]["description"]
    assert schemas["TokenDefectPlan"]["properties"]["times"]["default"] == 1
    assert schemas["Client"]["required"] == ["client_id"]
