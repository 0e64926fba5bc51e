"""The ``basic-cimd`` trial's document host, without an agent: what check-agent hosts is a
client ID metadata document mockidp accepts, over https from its local CA, and only the
trial that needs it hands its URL to the agent."""

from __future__ import annotations

import base64
import hashlib

import httpx

import mockidp
from mockidp import MockIdP
from mockidp.conformance.check_agent import agent_config, mcp_env
from mockidp.conformance.client_document_host import ClientDocumentHost
from mockidp.conformance.mcp_trials import MCP_BY_NAME, MCP_REDIRECT_URI, MCP_TRIALS
from mockidp.resources import MockApis

VERIFIER = "v" * 43


def test_the_hosted_document_signs_a_client_in_without_registration() -> None:
    trial = MCP_BY_NAME["basic-cimd"]
    config = agent_config().merged(dict(trial.idp))
    with ClientDocumentHost(MCP_REDIRECT_URI) as host, MockIdP(config) as idp:
        assert host.url.startswith("https://127.0.0.1:") and host.url.endswith("/client.json")
        with httpx.Client(verify=mockidp.ssl_context(), trust_env=False) as http:
            served = http.get(host.url).json()
        assert served["client_id"] == host.url and served["redirect_uris"] == [MCP_REDIRECT_URI]
        assert served["token_endpoint_auth_method"] == "none"
        metadata = httpx.get(f"{idp.issuer}/.well-known/oauth-authorization-server", trust_env=False).json()
        assert metadata["client_id_metadata_document_supported"] is True  # both offered
        assert metadata["registration_endpoint"]
        challenge = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=")
        query = {
            "response_type": "code",
            "client_id": host.url,
            "redirect_uri": MCP_REDIRECT_URI,
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
            "state": "s1",
        }
        answer = httpx.get(f"{idp.issuer}/authorize", params=query, trust_env=False)
        assert answer.status_code in (302, 303), answer.text
        assert answer.headers["location"].startswith(MCP_REDIRECT_URI + "?code=")
        # the IdP fetched the document over https, trusting mockidp's CA
        assert host.fetches == 2  # this test's own GET, then the IdP's
        assert [r.endpoint for r in idp.requests if r.endpoint == "register"] == []


def test_only_the_basic_cimd_trial_gives_the_agent_a_document_url() -> None:
    assert [t.name for t in MCP_TRIALS if t.client_document] == ["basic-cimd"]
    with MockIdP(agent_config()) as idp, MockApis(idp, ["inventory"], clients=[]) as apis:
        assert "MOCKIDP_CLIENT_METADATA_URL" not in mcp_env(apis)
        with ClientDocumentHost(MCP_REDIRECT_URI) as host:
            env = mcp_env(apis, host)
    assert env["MOCKIDP_CLIENT_METADATA_URL"] == host.url
    assert env["MOCKIDP_REDIRECT_URI"] == MCP_REDIRECT_URI
