"""mockidp over https: the issuer is https://127.0.0.1:PORT, signed by mockidp's local CA."""

import httpx
import pytest
import requests

from mockidp import ca_path, ssl_context

CLIENTS = [{"client_id": "svc", "client_secret": "svc-secret"}]


@pytest.mark.mockidp(tls=True, clients=CLIENTS)
def test_requests_and_httpx_trust_the_local_ca(mockidp):
    assert mockidp.issuer.startswith("https://127.0.0.1:")

    # requests: verify= the CA file
    token = requests.post(
        mockidp.token_endpoint,
        data={"grant_type": "client_credentials"},
        auth=("svc", "svc-secret"),
        verify=ca_path(),
    ).json()["access_token"]
    assert token

    # httpx: verify= an SSLContext trusting the system's CAs and mockidp's
    with httpx.Client(verify=ssl_context()) as client:
        metadata = client.get(mockidp.metadata_url).json()
    assert metadata["issuer"] == mockidp.issuer
