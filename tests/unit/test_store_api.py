"""The store's API: lookups, snapshots, registrations that validate, removals, revocation.

Every registration path (library, control API, RFC 7591, mock APIs) goes through
``Store.add_client``; no module outside ``store.py``/``grants.py`` touches their lock or dicts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

import mockidp as mockidp_package
import pytest_mockidp
from mockidp import ApiConfig, ClientConfig, ConfigError, IdPConfig, MockIdP, UserConfig
from mockidp.store import IssuedToken, Store

AGENT = ("demo-agent", "demo-agent-secret")
API = ApiConfig(audience="https://api.example", scopes=("api:read",))
MACHINE = ClientConfig(
    client_id="machine",
    client_secret="s3cret",
    grant_types=("client_credentials",),
    scopes=("api:read",),
    audiences=("https://api.example",),
)


def test_lookups_and_snapshots() -> None:
    store = Store(IdPConfig(apis=(API,), clients=(MACHINE,), users=(UserConfig(sub="u1", username="ann"),)))
    assert store.client("machine") is MACHINE
    assert store.client("nobody") is None
    assert store.user("u1") is not None and store.user_by_login("ann") == store.user("u1")
    assert store.api("https://api.example") is API
    assert store.apis_for(["issuer", "https://api.example", "other"]) == [API]
    snapshot = store.clients()
    store.add_client(ClientConfig(client_id="later", client_secret="x", grant_types=("client_credentials",)))
    assert list(snapshot) == ["machine"]  # a snapshot does not change under the caller
    assert list(store.clients()) == ["machine", "later"]
    store.add_api(ApiConfig(audience="https://two.example", scopes=("two:write", "api:read")))
    assert store.api_scopes() == {"api:read", "two:write"}
    store.add_user(UserConfig(sub="u2"))
    assert list(store.users()) == ["u1", "u2"]


def test_removals_return_what_was_there() -> None:
    store = Store(IdPConfig(apis=(API,), clients=(MACHINE,), users=(UserConfig(sub="u1"),)))
    assert store.remove_client("machine") is MACHINE
    assert store.remove_client("machine") is None
    assert store.remove_api("https://api.example") is API
    assert store.apis() == {}
    assert store.remove_user("u1") is not None
    assert store.user("u1") is None


def test_add_client_runs_the_config_checks_and_stores_nothing_on_failure() -> None:
    store = Store(IdPConfig(apis=(API,)))
    public_machine = ClientConfig(client_id="p", grant_types=("client_credentials",))
    with pytest.raises(ConfigError, match="confidential") as caught:
        store.add_client(public_machine, "clients[3]")
    assert caught.value.key_path == "clients[3].grant_types"
    unknown_audience = ClientConfig(client_id="a", client_secret="x", audiences=("https://nowhere.example",))
    with pytest.raises(ConfigError, match="not one of the configured apis"):
        store.add_client(unknown_audience)
    assert store.clients() == {}


def test_revoke_token_reports_whether_it_was_active() -> None:
    store = Store(IdPConfig())
    token = IssuedToken(
        jti="j1", kind="access", client_id="c", subject="s", scope=(), audiences=(), issued_at=0, expires_at=9
    )
    store.remember(token)
    assert store.token("j1") is token and not store.is_revoked("j1")
    assert store.revoke_token("j1") is True
    assert store.revoke_token("j1") is False  # already revoked
    assert store.revoke_token("unknown") is False
    assert store.is_revoked("j1")
    assert list(store.tokens()) == ["j1"]


def test_a_removed_client_is_refused_at_once(mockidp: MockIdP, http: requests.Session) -> None:
    token = mockidp.token_endpoint
    assert http.post(token, data={"grant_type": "client_credentials"}, auth=AGENT).status_code == 200
    assert mockidp.state.store.remove_client("demo-agent") is not None
    refused = http.post(token, data={"grant_type": "client_credentials"}, auth=AGENT)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    mockidp.reset()  # back to the config
    assert http.post(token, data={"grant_type": "client_credentials"}, auth=AGENT).status_code == 200


def test_every_registration_path_validates(mockidp: MockIdP, http: requests.Session) -> None:
    """The library and the control API refuse what a config file would refuse."""
    bad = {"client_id": "pub", "grant_types": ["client_credentials"]}
    with pytest.raises(ConfigError, match="confidential"):
        mockidp.add_client(**bad)
    r = http.post(mockidp.url("_mockidp/clients"), json=bad)
    assert r.status_code == 400, r.text
    assert "clients[0].grant_types" in r.text
    assert "pub" not in mockidp.clients


# --- the store's lock and dicts stay private ----------------------------------------------------

#: the store's and the grants' lock, their private dicts, and the dicts' old public names
#: used as attributes (not calls): ``state.store.lock``, ``grants._codes``, ``store.clients.get``
PRIVATE = re.compile(
    r"\b(?:store|grants|polls)\b(?:\.\w+)*\."
    r"(?:_?lock\b|_(?:clients|users|apis|tokens|codes|refresh|sessions|pending|userinfo_claims"
    r"|requests|pages|by_id|by_user_code)\b"
    r"|(?:clients|users|apis|tokens|codes|sessions|pending|refresh|userinfo_claims)\b(?!\())"
)
OWNERS = {"store.py", "grants.py", "polling.py"}


def _offenders(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if PRIVATE.search(line)]


def test_the_check_catches_what_it_is_meant_to() -> None:
    assert _offenders("    with state.store.lock:\n        c = state.store.clients.get(cid)\n") == [
        "with state.store.lock:",
        "c = state.store.clients.get(cid)",
    ]
    assert _offenders("with state.store.grants.lock:") != []
    assert _offenders("n = len(grants._sessions)") != []
    assert _offenders("r = state.store.polls._requests[key]") != []
    allowed = "c = state.store.client(cid)\nall_ = store.clients()\nr = grants.refresh_record(t)"
    assert _offenders(allowed) == []


def test_no_module_outside_the_store_touches_its_lock_or_dicts() -> None:
    roots = [Path(mockidp_package.__file__).parent, Path(pytest_mockidp.__file__).parent]
    found = {
        str(path): offenders
        for root in roots
        for path in sorted(root.rglob("*.py"))
        if not (path.parent == roots[0] and path.name in OWNERS)
        for offenders in [_offenders(path.read_text(encoding="utf-8"))]
        if offenders
    }
    assert found == {}
