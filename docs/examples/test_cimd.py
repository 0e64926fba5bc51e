"""A client ID metadata document: the client_id is the https URL of a JSON document the
client publishes; mockidp fetches it instead of asking the client to register."""

import base64
import hashlib
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from mockidp import ca_path, issue_cert


@pytest.fixture
def client_id():
    """The client's own https host, with a certificate from mockidp's local CA."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), DocumentHandler)
    context = issue_cert("127.0.0.1").server_context()
    server.socket = context.wrap_socket(server.socket, server_side=True)
    url = f"https://127.0.0.1:{server.server_port}/oauth/client.json"
    server.document = {
        "client_id": url,  # must equal the URL exactly
        "client_name": "Example Agent",
        "redirect_uris": ["http://127.0.0.1/callback"],  # loopback: any port matches
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",  # a public client, with PKCE
    }
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield url
    server.shutdown()
    server.server_close()


class DocumentHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(self.server.document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "max-age=300")  # mockidp caches it that long
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.mockidp(tls=True, login="auto")
def test_sign_in_with_a_client_id_metadata_document(mockidp, client_id):
    metadata = requests.get(mockidp.metadata_url, verify=ca_path()).json()
    assert metadata["client_id_metadata_document_supported"] is True

    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    redirect_uri = "http://127.0.0.1:8765/callback"
    answer = requests.get(
        metadata["authorization_endpoint"],
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        verify=ca_path(),
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]

    tokens = requests.post(
        metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": verifier,
        },
        verify=ca_path(),
    ).json()
    assert tokens["token_type"] == "Bearer"


@pytest.mark.mockidp(tls=True)
def test_a_bad_document_is_refused_with_the_reason(mockidp, client_id):
    wrong = client_id + "?v=2"  # another URL: the document's client_id no longer matches
    answer = requests.post(
        mockidp.token_endpoint,
        data={"grant_type": "authorization_code", "code": "x", "client_id": wrong},
        verify=ca_path(),
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert "is not the URL it was fetched from" in answer.json()["error_description"]
