"""Hypothesis over the DPoP header at the token endpoint and a DPoP mock API.

Whatever the proof (random text, JWT-shaped JSON of any shape, a valid proof with one claim or
header member replaced by an arbitrary JSON value), the answer is a clean OAuth refusal (400 at
the token endpoint, 401 with a DPoP challenge at the API) or a success, never a 5xx, a stack
trace or an ill-formed error; and a success only ever comes with a proof that is still valid.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from dpop_client import DPoPKey
from fuzzing import Target, problems, send
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockidp import MockIdP
from mockidp.demo import demo_config
from mockidp.resources import MockApis

# Hypothesis runs with many examples each: CI runs them, the fast loop leaves them out
pytestmark = pytest.mark.slow

AGENT = base64.b64encode(b"demo-agent:demo-agent-secret").decode()
FORM = b"grant_type=client_credentials"
KEY = DPoPKey()

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300)


def b64(value: Any) -> str:
    raw = json.dumps(value).encode() if not isinstance(value, bytes) else value
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@st.composite
def jwt_shaped(draw: st.DrawFn) -> str:
    header = draw(
        st.dictionaries(st.sampled_from(["typ", "alg", "jwk", "kid", "crit"]), json_values, max_size=4)
    )
    payload = draw(json_values)
    signature = draw(st.binary(max_size=80))
    return f"{b64(header)}.{b64(payload)}.{b64(signature)}"


@st.composite
def mutated(draw: st.DrawFn, url: str, method: str, token: str | None) -> tuple[str, bool]:
    """A valid proof with one member replaced (True: left untouched, still valid)."""
    where = draw(st.sampled_from(["claim", "header", "none"]))
    name = draw(st.sampled_from(["jti", "htm", "htu", "iat", "ath", "nonce", "typ", "jwk", "alg"]))
    value = draw(json_values)
    if where == "claim":
        return KEY.proof(method, url, access_token=token, claims={name: value}), False
    if where == "header":
        if name == "alg":
            return KEY.proof(method, url, access_token=token), True  # PyJWT sets alg itself
        return KEY.proof(method, url, access_token=token, header={name: value}), False
    return KEY.proof(method, url, access_token=token), True


@pytest.fixture(scope="module", params=[False, True], ids=["no-nonce", "nonce"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[MockIdP, MockApis]]:
    """An IdP and a DPoP-only API, without and with server nonces (the nonce checks get fuzzed
    too; the valid proofs then carry no nonce, so they are refused with use_dpop_nonce)."""
    nonce = bool(request.param)
    with MockIdP(demo_config(), dpop={"nonce": nonce}) as idp, MockApis(idp, ["items"]) as apis:
        apis["items"].require_dpop(nonce=nonce)
        yield idp, apis


def bound_token(idp: MockIdP, api_url: str) -> str:
    return idp.issue_token(
        client_id="demo-agent", audience=api_url, scope="items:read", claims={"cnf": {"jkt": KEY.jkt}}
    )


def post_token(idp: MockIdP, proof: str) -> Any:
    parts = urlsplit(idp.token_endpoint)
    headers = [
        ("Authorization", f"Basic {AGENT}"),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("DPoP", proof),
    ]
    assert parts.port is not None
    return send(parts.port, "POST", parts.path, headers, FORM)


def get_api(api_url: str, token: str, proof: str) -> Any:
    parts = urlsplit(api_url)
    assert parts.port is not None
    return send(parts.port, "GET", parts.path, [("Authorization", f"DPoP {token}"), ("DPoP", proof)], None)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(proof=st.one_of(header_text, jwt_shaped()))
def test_token_endpoint_refuses_any_garbage_cleanly(served: tuple[MockIdP, MockApis], proof: str) -> None:
    idp, _ = served
    answer = post_token(idp, proof)
    assert answer.status == 400, answer
    assert problems(Target("token", "POST", "/token"), answer) == []
    assert json.loads(answer.body)["error"] in ("invalid_dpop_proof", "use_dpop_nonce")


@FUZZ
@given(data=st.data())
def test_token_endpoint_accepts_only_valid_proofs(
    served: tuple[MockIdP, MockApis], data: st.DataObject
) -> None:
    idp, _ = served
    proof, valid = data.draw(mutated(idp.token_endpoint, "POST", None))
    answer = post_token(idp, proof)
    assert problems(Target("token", "POST", "/token"), answer) == []
    if answer.status == 200:
        claims = json.loads(base64.urlsafe_b64decode(proof.split(".")[1] + "=="))
        assert valid or (claims.get("htm"), claims.get("htu")) == ("POST", idp.token_endpoint)
        assert isinstance(claims.get("jti"), str) and abs(claims["iat"] - time.time()) <= 60
    else:
        assert answer.status == 400


@FUZZ
@given(data=st.data())
def test_dpop_api_refuses_bad_proofs_with_a_challenge(
    served: tuple[MockIdP, MockApis], data: st.DataObject
) -> None:
    idp, apis = served
    url = apis["items"].url
    token = bound_token(idp, url)
    proof, valid = data.draw(st.one_of(mutated(url, "GET", token), jwt_shaped().map(lambda p: (p, False))))
    answer = get_api(url, token, proof)
    assert answer.status < 500 and b"Traceback" not in answer.body
    if valid and not idp.config.dpop.nonce:
        assert answer.status == 200, answer
    elif answer.status != 200:
        assert answer.status == 401
        assert answer.headers["www-authenticate"].startswith("DPoP ")
        assert problems(Target("api", "GET", "/items"), answer) == []
