"""Config errors of the assertion grants name the key path: ``trusted_issuers`` entries and
``clients[].exchange`` policies."""

from __future__ import annotations

from typing import Any

import pytest

from mockidp import ConfigError, IdPConfig, parse_config
from mockidp.config import TrustedIssuerConfig

KEYS = {"keys": [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "kid": "k", "alg": "ES256"}]}
API = {"audience": "https://api.example"}
ISS = "https://i.example"
T0 = "trusted_issuers[0]"


@pytest.mark.parametrize(
    ("entry", "path", "words"),
    [
        ({"issuer": ISS}, f"{T0}.jwks", "either jwks or jwks_uri"),
        ({"issuer": ISS, "jwks": KEYS, "jwks_uri": "https://i.example/k"}, f"{T0}.jwks", "either"),
        ({"issuer": ISS, "jwks": {"k": 1}}, f"{T0}.jwks", "JWK Set"),
        ({"issuer": "", "jwks": KEYS}, f"{T0}.issuer", "empty"),
        ({"issuer": ISS, "jwks": KEYS, "kind": "cloud"}, f"{T0}.kind", "workload"),
        (
            {"issuer": ISS, "jwks": KEYS, "audiences": ["https://nope.example"]},
            f"{T0}.audiences[0]",
            "not one of the configured apis",
        ),
        ({"issuer": ISS, "jwks": KEYS, "subject": ["x"]}, T0, "unknown key 'subject'"),
    ],
)
def test_bad_trusted_issuer_names_its_key(entry: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        IdPConfig.from_dict({"apis": [API], "trusted_issuers": [entry]})
    assert info.value.key_path.startswith(path) and words in info.value.message, info.value


def test_duplicate_trusted_issuer() -> None:
    entry = {"issuer": ISS, "jwks": KEYS}
    with pytest.raises(ConfigError, match=r"trusted_issuers\[1\]\.issuer.*duplicate"):
        IdPConfig.from_dict({"trusted_issuers": [entry, entry]})


def test_exchange_policy_errors_name_file_key_and_line(tmp_path: Any) -> None:
    text = "clients:\n  - client_id: gw\n    client_secret: s\n    exchange:\n      max_act_depth: 0\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, file="idp.yaml")
    assert info.value.key_path == "clients[0].exchange.max_act_depth"
    assert info.value.file == "idp.yaml" and info.value.line is not None
    with pytest.raises(ConfigError, match="unknown key 'audience'"):
        parse_config("clients:\n  - client_id: gw\n    exchange: {audience: [x]}\n")


def test_defaults() -> None:
    config = IdPConfig.from_dict(
        {"apis": [API], "clients": [{"client_id": "c", "client_secret": "s", "audiences": [API["audience"]]}]}
    )
    policy = config.clients[0].exchange_policy
    assert (policy.audiences, policy.scopes, policy.max_act_depth) == (("https://api.example",), (), 1)
    entry = TrustedIssuerConfig(issuer=ISS, jwks=KEYS)
    assert (entry.kind, entry.allow_http_loopback, entry.subjects) == (None, False, ())
