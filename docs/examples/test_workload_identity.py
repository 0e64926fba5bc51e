"""Workload identity federation (MCP SEP-1933): a CI job trades its platform JWT for an access
token with the jwt-bearer grant (RFC 7523 section 2.1). No client secret anywhere."""

import pytest
import requests

from mockidp import MockIdP, WorkloadIssuer

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CI = WorkloadIssuer("https://token.actions.example")  # stands in for the CI platform


@pytest.fixture
def idp():
    config = {
        "apis": [{"audience": "https://deploy.example", "scopes": ["deploy"]}],
        "clients": [
            {
                "client_id": "deployer",  # public: the workload JWT is the credential
                "grant_types": [JWT_BEARER],
                "audiences": ["https://deploy.example"],
                "scopes": ["deploy"],
            }
        ],
        # trust the platform for this API and scope, and only for jobs of the acme org
        "trusted_issuers": [
            CI.trusted_issuer(audiences=["https://deploy.example"], scopes=["deploy"], subjects=["repo:acme/*"])
        ],
    }
    with MockIdP(config) as server:
        yield server


def redeem(idp, assertion):
    data = {
        "grant_type": JWT_BEARER,
        "assertion": assertion,
        "client_id": "deployer",
        "resource": "https://deploy.example",
        "scope": "deploy",
    }
    return requests.post(idp.token_endpoint, data=data)


def test_a_ci_job_gets_a_token(idp):
    job_jwt = CI.mint("repo:acme/app:ref:refs/heads/main", audience=idp.issuer)
    r = redeem(idp, job_jwt)
    assert r.status_code == 200
    assert r.json()["scope"] == "deploy"
    # single use: the same JWT again is a replay
    assert redeem(idp, job_jwt).json()["error"] == "invalid_grant"


def test_a_job_of_another_org_is_refused(idp):
    r = redeem(idp, CI.mint("repo:evil/app", audience=idp.issuer))
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"
    assert "is not allowed for this issuer" in r.json()["error_description"]
