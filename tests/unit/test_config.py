"""The configuration model: one model for YAML and Python, errors that say file, key path, line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mockidp import ConfigError, IdPConfig, MockIdP, load_config, parse_config
from mockidp.loading import to_dict

#: the example from issue 2, verbatim
ISSUE_EXAMPLE = """\
issuer: http://127.0.0.1:9400   # optional; default http://<host>:<port>
login: auto                      # auto | form (the authorization endpoint, another issue)
signing_alg: RS256
access_token_ttl: 300
clients:
  - client_id: inventory-agent
    client_secret: agent-secret  # none -> public client
    token_endpoint_auth_method: client_secret_basic   # optional
    grant_types: [client_credentials]
    redirect_uris: []
    scopes: [inventory:read]     # scopes this client may get
    audiences: [inventory-api]   # APIs this client may get tokens for
users:
  - sub: alice
    username: alice
    password: alice-pw
    claims: {name: Alice Example, email: alice@example.com}
apis:
  - audience: inventory-api      # resource identifier, may be a URL
    scopes: [inventory:read, inventory:write]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "idp.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"{path}:")
    return info.value


def test_issue_example_loads_as_written(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ISSUE_EXAMPLE))
    assert config.issuer == "http://127.0.0.1:9400"
    assert config.login == "auto"
    assert config.signing_alg == "RS256"
    assert config.access_token_ttl == 300
    (client,) = config.clients
    assert client.client_id == "inventory-agent"
    assert client.client_secret == "agent-secret"
    assert client.token_endpoint_auth_method == "client_secret_basic"
    assert client.grant_types == ("client_credentials",)
    assert client.redirect_uris == ()
    assert client.scopes == ("inventory:read",)
    assert client.audiences == ("inventory-api",)
    (user,) = config.users
    assert (user.sub, user.username, user.password) == ("alice", "alice", "alice-pw")
    assert user.claims == {"name": "Alice Example", "email": "alice@example.com"}
    (api,) = config.apis
    assert api.audience == "inventory-api"
    assert api.scopes == ("inventory:read", "inventory:write")


def test_yaml_and_dict_give_the_same_model(tmp_path: Path) -> None:
    from_yaml = load_config(write(tmp_path, ISSUE_EXAMPLE))
    from_dict = IdPConfig.from_dict(to_dict(from_yaml))
    assert from_dict == from_yaml
    assert MockIdP(to_dict(from_yaml)).config == from_yaml
    assert MockIdP(write(tmp_path, ISSUE_EXAMPLE)).config == from_yaml


def test_issue_example_works_end_to_end(tmp_path: Path) -> None:
    """The example's client gets a token for its API (issuer overridden: the port is random)."""
    import requests

    config = load_config(write(tmp_path, ISSUE_EXAMPLE))
    with MockIdP(config, issuer="/") as idp:
        r = requests.post(
            idp.token_endpoint,
            data={"grant_type": "client_credentials", "resource": "inventory-api"},
            auth=("inventory-agent", "agent-secret"),
            timeout=5,
        )
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "inventory:read"


def test_empty_file_is_the_default_config(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")) == IdPConfig()
    assert load_config(write(tmp_path, "# only a comment\n")) == IdPConfig()


@pytest.mark.parametrize(
    ("text", "key_path", "line", "words"),
    [
        ("issuer: /t\nlogn: auto\n", "logn", 2, "unknown key 'logn'"),
        (
            "clients:\n  - client_id: a\n    client_secret: s\n    scope: [x]\n",
            "clients[0].scope",
            4,
            "unknown",
        ),
        ("access_token_ttl: five\n", "access_token_ttl", 1, "expected an integer"),
        ("access_token_ttl: true\n", "access_token_ttl", 1, "expected an integer"),
        ("access_token_ttl: 0\n", "access_token_ttl", 1, "positive"),
        ("signing_alg: HS256\n", "signing_alg", 1, "expected one of"),
        ("login: maybe\n", "login", 1, "expected one of"),
        ("clients: {client_id: a}\n", "clients", 1, "expected a list"),
        ("clients:\n  - client_id: 7\n", "clients[0].client_id", 2, "expected a string"),
        ("clients:\n  - client_secret: s\n", "clients[0]", 2, "missing required key 'client_id'"),
        ("users:\n  - sub: a\n    claims: [1]\n", "users[0].claims", 3, "expected a mapping"),
        ("apis:\n  - audience: a\n    scopes: x\n", "apis[0].scopes", 3, "expected a list"),
        ("login: auto\nlogin: form\n", "login", 2, "duplicate key"),
        (
            "clients:\n  - client_id: a\n    client_secret: s\n  - client_id: a\n    client_secret: t\n",
            "clients[1].client_id",
            4,
            "duplicate client_id",
        ),
        (
            "clients:\n  - client_id: pub\n    grant_types: [client_credentials]\n",
            "clients[0].grant_types",
            3,
            "confidential",
        ),
        (
            "clients:\n  - client_id: pub\n    token_endpoint_auth_method: client_secret_post\n",
            "clients[0].token_endpoint_auth_method",
            3,
            "needs a client_secret",
        ),
        (
            "clients:\n  - client_id: c\n    client_secret: s\n    grant_types: [password]\n",
            "clients[0].grant_types[0]",
            4,
            "expected one of",
        ),
        (
            "apis:\n  - audience: api\nclients:\n  - client_id: c\n    client_secret: s\n"
            "    audiences: [other]\n",
            "clients[0].audiences[0]",
            6,
            "not one of the configured apis",
        ),
        ("issuer: ftp://x\n", "issuer", 1, "http(s) URL"),
        ("issuer: http://x/?q=1\n", "issuer", 1, "query or fragment"),
        ("users:\n  - sub: a\n  - sub: a\n", "users[1].sub", 3, "duplicate sub"),
        ("dynamic_registration: sure\n", "dynamic_registration", 1, "true or false"),
    ],
)
def test_errors_name_file_key_path_and_line(
    tmp_path: Path, text: str, key_path: str, line: int, words: str
) -> None:
    err = error_of(tmp_path, text)
    assert err.key_path == key_path
    assert err.line == line
    assert words in err.message
    assert f":{line} at '{key_path}'" in str(err)


@pytest.mark.parametrize(
    ("text", "line"),
    [("clients: [\n  a: b\n", 2), ("issuer: 'unterminated\n", 2), ("a: b\n\tc: d\n", 2), ("? [a]\n: 1\n", 1)],
)
def test_bad_yaml_names_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    err = error_of(tmp_path, text)
    assert err.line is not None and abs(err.line - line) <= 1


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    err = error_of(tmp_path, "- a\n- b\n")
    assert "expected a mapping" in err.message


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(missing)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match=r"bin\.yaml"):
        load_config(binary)


def test_unknown_key_lists_known_ones() -> None:
    with pytest.raises(ConfigError) as info:
        IdPConfig.from_dict({"clients": [{"client_id": "a", "secret": "x"}]})
    assert info.value.key_path == "clients[0].secret"
    assert "client_secret" in info.value.message  # the hint names the right key
    assert str(info.value).startswith("<config> at 'clients[0].secret'")


@pytest.mark.parametrize(
    ("data", "key_path"),
    [
        ({"signing_alg": "none"}, "signing_alg"),
        ({"clients": [{"client_id": ""}]}, "clients[0].client_id"),
        ({"clients": [{"client_id": "c", "client_secret": "s", "token_endpoint_auth_method": "none"}]}, ""),
        ({"clients": [{"client_id": "c", "redirect_uris": ["https://a/#x"]}]}, "clients[0].redirect_uris[0]"),
        ({"apis": [{"audience": "a"}, {"audience": "a"}]}, "apis[1].audience"),
        ({"generated_users": -1}, "generated_users"),
        ({"seed": "x"}, "seed"),
    ],
)
def test_dict_errors_have_key_paths(data: dict[str, Any], key_path: str) -> None:
    with pytest.raises(ConfigError) as info:
        IdPConfig.from_dict(data)
    assert info.value.key_path.startswith(key_path)
    assert info.value.line is None


def test_marker_style_overrides_are_validated() -> None:
    base = IdPConfig()
    assert base.merged({"access_token_ttl": 60}).access_token_ttl == 60
    with pytest.raises(ConfigError, match="access_token_ttl"):
        base.merged({"access_token_ttl": "60"})


def test_config_is_frozen() -> None:
    config = IdPConfig()
    with pytest.raises(AttributeError):
        config.login = "form"  # type: ignore[misc]


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA"])
def test_every_signing_alg_is_accepted(alg: str) -> None:
    assert parse_config(f"signing_alg: {alg}\n").signing_alg == alg


def test_configuration_doc_examples_load() -> None:
    """docs/configuration.md's YAML blocks are real configs; the first is the issue's example."""
    import re

    doc = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
    blocks = re.findall(r"```yaml\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert blocks
    configs = [parse_config(block, file=str(doc)) for block in blocks]
    assert configs[0] == parse_config(ISSUE_EXAMPLE)
