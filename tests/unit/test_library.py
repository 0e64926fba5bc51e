"""The library API without pytest fixtures: context managers, registrations, tokens, journal."""

from __future__ import annotations

import base64
import hashlib
import json

import jwt
import pytest
import requests
from userflow import claims_of

from mockidp import MockIdP, MockIdPError, redacted
from mockidp.demo import demo_config

AGENT = ("demo-agent", "demo-agent-secret")


def get_token(idp: MockIdP, **data: str) -> requests.Response:
    return requests.post(
        idp.token_endpoint, data={"grant_type": "client_credentials", **data}, auth=AGENT, timeout=5
    )


def test_sync_context_manager_serves_and_stops() -> None:
    with MockIdP(demo_config()) as idp:
        assert idp.running
        assert idp.issuer == f"http://127.0.0.1:{idp.port}"
        assert get_token(idp).status_code == 200
        url = idp.jwks_uri
    assert not idp.running
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)


@pytest.mark.asyncio
async def test_async_context_manager_on_the_running_loop() -> None:
    import aiohttp

    async with (
        MockIdP(demo_config()) as idp,
        aiohttp.ClientSession() as session,
        session.post(
            idp.token_endpoint,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic " + base64.b64encode(":".join(AGENT).encode()).decode()},
        ) as r,
    ):
        assert r.status == 200
        body = await r.json()
    assert claims_of(body["access_token"])["iss"] == idp.issuer
    assert not idp.running


def test_issuer_before_start_is_an_error() -> None:
    with pytest.raises(MockIdPError, match="started"):
        _ = MockIdP().issuer


def test_starting_twice_is_an_error() -> None:
    with MockIdP() as idp, pytest.raises(MockIdPError, match="already started"):
        idp.start()


def test_relative_issuer_path_and_rfc8414_path_insertion() -> None:
    with MockIdP(demo_config(), issuer="/tenant-a") as idp:
        assert idp.issuer == f"{idp.base_url}/tenant-a"
        inserted = f"{idp.base_url}/.well-known/oauth-authorization-server/tenant-a"
        assert idp.oauth_metadata_url == inserted
        for url in (
            inserted,
            f"{idp.base_url}/.well-known/openid-configuration/tenant-a",
            f"{idp.issuer}/.well-known/openid-configuration",
            f"{idp.issuer}/.well-known/oauth-authorization-server",
        ):
            doc = requests.get(url, timeout=5).json()
            assert doc["issuer"] == idp.issuer, url
            assert doc["token_endpoint"] == f"{idp.issuer}/token"
        # the root documents do not exist for a path issuer (RFC 8414 section 3.1)
        assert requests.get(f"{idp.base_url}/.well-known/openid-configuration", timeout=5).status_code == 404
        token = get_token(idp).json()["access_token"]
        assert claims_of(token)["iss"] == idp.issuer


def test_absolute_issuer_with_a_path() -> None:
    with MockIdP(demo_config()) as probe:
        port = probe.port  # a port that was free a moment ago
    issuer = f"http://127.0.0.1:{port}/realms/test"
    with MockIdP(demo_config(), port=port, issuer=issuer) as idp:
        assert idp.issuer == issuer
        doc = requests.get(
            f"http://127.0.0.1:{port}/.well-known/oauth-authorization-server/realms/test", timeout=5
        )
        assert doc.json()["issuer"] == issuer
        assert claims_of(get_token(idp).json()["access_token"])["iss"] == issuer


def test_add_client_user_api_at_run_time() -> None:
    with MockIdP() as idp:
        idp.add_api(audience="https://api.example/v1", scopes=["things:read"])
        client = idp.add_client(
            client_id="late", client_secret="s", scopes=["things:read"], audiences=["https://api.example/v1"]
        )
        user = idp.add_user(sub="bob", password="pw", claims={"name": "Bob"})
        assert idp.clients["late"] == client
        assert idp.users["bob"] == user
        r = requests.post(
            idp.token_endpoint,
            data={"grant_type": "client_credentials", "resource": "https://api.example/v1"},
            auth=("late", "s"),
            timeout=5,
        )
        assert r.status_code == 200, r.text
        assert claims_of(r.json()["access_token"])["aud"] == "https://api.example/v1"


def test_add_client_rejects_bad_keys() -> None:
    from mockidp import ConfigError

    with MockIdP() as idp, pytest.raises(ConfigError, match=r"clients\.secret"):
        idp.add_client(client_id="x", secret="s")


def test_add_client_applies_the_config_cross_checks() -> None:
    """The library path must refuse what a YAML file refuses: a public client with the
    client_credentials grant would get tokens without authenticating (RFC 6749 4.4)."""
    from mockidp import ConfigError

    with MockIdP() as idp:
        with pytest.raises(ConfigError, match="confidential"):
            idp.add_client(client_id="open", grant_types=["client_credentials"], scopes=["demo-api:read"])
        with pytest.raises(ConfigError, match="needs a client_secret"):
            idp.add_client(client_id="x", token_endpoint_auth_method="client_secret_post")
        assert "open" not in idp.clients and "x" not in idp.clients
        r = requests.post(
            idp.token_endpoint, data={"grant_type": "client_credentials", "client_id": "open"}, timeout=5
        )
        assert r.json()["error"] == "invalid_client"


def test_issue_token_without_http_verifies_against_jwks() -> None:
    with MockIdP(demo_config()) as idp:
        token = idp.issue_token(client_id="demo-agent", audience="demo-api", scope="demo-api:read")
        key = jwt.PyJWKClient(idp.jwks_uri).get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=["RS256"], audience="demo-api", issuer=idp.issuer)
        assert claims["scope"] == "demo-api:read"
        assert claims["sub"] == claims["client_id"] == "demo-agent"
        assert idp.requests[-1].endpoint == "jwks"  # minting itself made no request
        custom = claims_of(idp.issue_token(subject="alice", claims={"tenant": "t1"}))
        assert custom["sub"] == "alice"
        assert custom["tenant"] == "t1"
        from mockidp.errors import InvalidScope

        with pytest.raises(InvalidScope):
            idp.issue_token(client_id="demo-agent", scope="admin")
        with pytest.raises(MockIdPError, match="unknown client"):
            idp.issue_token(client_id="ghost")


def test_rotate_keys_keeps_the_previous_key_published() -> None:
    with MockIdP(demo_config()) as idp:
        old_token = get_token(idp).json()["access_token"]
        old_kid = idp.signing_key.kid
        new_key = idp.rotate_keys()
        assert new_key.kid != old_kid == jwt.get_unverified_header(old_token)["kid"]
        kids = [k["kid"] for k in requests.get(idp.jwks_uri, timeout=5).json()["keys"]]
        assert kids == [new_key.kid, old_kid]
        new_token = get_token(idp).json()["access_token"]
        assert jwt.get_unverified_header(new_token)["kid"] == new_key.kid
        for token in (old_token, new_token):
            key = jwt.PyJWKClient(idp.jwks_uri).get_signing_key_from_jwt(token)
            jwt.decode(token, key.key, algorithms=["RS256"], audience="demo-api")
        idp.rotate_keys()
        kids = [k["kid"] for k in idp.jwks()["keys"]]
        assert old_kid not in kids and len(kids) == 2


def test_reset_returns_to_the_config() -> None:
    with MockIdP(demo_config()) as idp:
        first_kid = idp.signing_key.kid
        idp.add_client(client_id="extra", client_secret="s")
        idp.rotate_keys()
        idp.clock.freeze(1_000_000)
        get_token(idp)
        idp.reset()
        assert "extra" not in idp.clients
        assert idp.signing_key.kid == first_kid
        assert idp.requests == []
        assert not idp.clock.frozen
        assert set(idp.clients) == {"demo-agent", "demo-app"}


def test_journal_records_requests_with_secrets_redacted() -> None:
    with MockIdP(demo_config()) as idp:
        get_token(idp, resource="demo-api")
        requests.post(
            idp.token_endpoint,
            data={"grant_type": "client_credentials", "client_id": AGENT[0], "client_secret": AGENT[1]},
            timeout=5,
        )
        requests.post(
            f"{idp.token_endpoint}?debug=1",
            data={"grant_type": "password", "username": "alice", "password": "alice-pw"},
            auth=AGENT,
            timeout=5,
        )
        basic, post, password = idp.requests
    assert (basic.method, basic.path, basic.endpoint) == ("POST", "/token", "token")
    assert basic.status == 200
    assert basic.client_id == "demo-agent"
    assert basic.form == {"grant_type": ["client_credentials"], "resource": ["demo-api"]}
    basic_credentials = base64.b64encode(f"{AGENT[0]}:{AGENT[1]}".encode()).decode()
    assert basic.headers["Authorization"] == f"Basic {redacted(basic_credentials)}"
    assert post.form["client_secret"] == [redacted(AGENT[1])]
    assert post.client_id == "demo-agent"
    assert password.form["password"] == [redacted("alice-pw")]
    assert redacted("alice-pw") == f"[redacted len=8 sha256:{hashlib.sha256(b'alice-pw').hexdigest()[:8]}]"
    assert password.query == {"debug": ["1"]}
    assert password.status == 400
    dumped = json.dumps([r.to_dict() for r in (basic, post, password)])
    assert AGENT[1] not in dumped
    assert "alice-pw" not in dumped
    assert base64.b64encode(f"{AGENT[0]}:{AGENT[1]}".encode()).decode() not in dumped


def test_server_bug_is_raised_in_the_caller() -> None:
    from mockidp import ServerBugError

    idp = MockIdP(demo_config()).start()
    try:
        idp.state.journal.append = None  # type: ignore[assignment, method-assign]  # sabotage
        with pytest.raises(TypeError):
            idp.state.journal.append(None)  # type: ignore[arg-type]
        idp.state.server_errors.add(RuntimeError("boom"))
    finally:
        idp.stop()
    with pytest.raises(ServerBugError, match="boom"):
        idp.raise_server_errors()


def test_journal_keeps_only_the_newest_requests(http: requests.Session) -> None:
    with MockIdP(journal_limit=3) as idp:
        for _ in range(5):
            http.get(idp.jwks_uri)
        http.get(idp.metadata_url)
        records = idp.requests
        assert len(records) == 3
        assert records[-1].endpoint == "discovery"
        assert [r.endpoint for r in records[:2]] == ["jwks", "jwks"]


def test_consecutive_idps_have_different_key_material() -> None:
    with MockIdP() as first, MockIdP() as second:
        one, two = first.jwks()["keys"][0], second.jwks()["keys"][0]
        assert one["kid"] != two["kid"]
        assert one["n"] != two["n"]
