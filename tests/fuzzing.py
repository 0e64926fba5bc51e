"""Shared fuzzing pieces: which endpoints exist, how to send raw requests, what a good answer is.

The endpoint list comes from the application's router, so an endpoint someone adds (with
``_named(...)`` in ``web/app.py``) is fuzzed without touching this file. Only
``HTML_ENDPOINTS`` (pages for people, which may answer with HTML or redirects) and
``ALLOWED_ERRORS`` need a line when a new kind of endpoint or error code arrives.
"""

from __future__ import annotations

import http.client
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from mockidp import MockIdP
from mockidp.web.app import route_defs
from mockidp.web.fault_middleware import ENDPOINT_ATTR

#: endpoints that talk to a browser: HTML pages and redirects are fine there, JSON elsewhere
HTML_ENDPOINTS = frozenset({"authorize", "end_session", "device"})

#: error codes a mockidp endpoint may send (RFC 6749, 6750, 7009, 7591, 8628, 8707, 9396, 9449,
#: OIDC, CIBA)
ALLOWED_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "access_denied",
        "unsupported_response_type",
        "temporarily_unavailable",
        "invalid_target",
        "invalid_token",
        "insufficient_scope",
        "unsupported_token_type",
        "invalid_client_metadata",
        "invalid_redirect_uri",
        "authorization_pending",
        "slow_down",
        "expired_token",
        "invalid_dpop_proof",
        "use_dpop_nonce",
        "login_required",
        "consent_required",
        "interaction_required",
        "account_selection_required",
        "invalid_request_uri",
        "invalid_request_object",
        "request_not_supported",
        "request_uri_not_supported",
        "registration_not_supported",
        "invalid_authorization_details",
        "unknown_user_id",
        "invalid_binding_message",
        #: mockidp's answer for a path with no endpoint (a JSON 404, not an HTML page)
        "not_found",
    }
)


#: RFC 6749 section 5.2 (and RFC 6750 section 3): the characters ``error_description`` may hold
DESCRIPTION_CHARS = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]*")


@dataclass(frozen=True, slots=True)
class Target:
    """One route: endpoint name (as in the journal), method and path (placeholders filled in)."""

    name: str
    method: str
    path: str

    @property
    def html(self) -> bool:
        return self.name in HTML_ENDPOINTS


def targets(idp: MockIdP) -> list[Target]:
    """Every route the IdP serves, from the same list its route table is built from."""
    found: list[Target] = []
    for route in route_defs(idp.state.issuer_path, idp.config.dynamic_registration):
        name = getattr(route.handler, ENDPOINT_ATTR, None)
        if not isinstance(name, str) or route.method == "HEAD":
            continue
        found.append(Target(name, route.method, route.path))
    return sorted(set(found), key=lambda t: (t.name, t.path, t.method))


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def send(
    port: int,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes | None,
    timeout: float = 10.0,
) -> Answer:
    """A raw HTTP/1.1 request to 127.0.0.1 (http.client keeps what requests would normalise).

    A ``Host`` among ``headers`` replaces the usual one (DNS-rebinding probes).
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    hosts = [value for name, value in headers if name.lower() == "host"]
    try:
        conn.putrequest(method, target, skip_accept_encoding=True, skip_host=bool(hosts))
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        data = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()


def problems(target: Target, answer: Answer, method: str = "") -> list[str]:
    """What is wrong with an answer to a malformed request (empty list: nothing)."""
    found: list[str] = []
    if answer.status >= 500:
        found.append(f"status {answer.status}")
    if b"Traceback (most recent call last)" in answer.body:
        found.append("stack trace in body")
    challenge = answer.headers.get("www-authenticate", "")
    error = re.search(r'error="([^"]*)"', challenge)
    if error and error.group(1) not in ALLOWED_ERRORS:
        found.append(f"unknown error {error.group(1)!r} in WWW-Authenticate")
    for description in re.findall(r'error_description="([^"]*)"', challenge):
        if not DESCRIPTION_CHARS.fullmatch(description):
            found.append(f"error_description {description!r} in WWW-Authenticate outside RFC 6749 5.2")
    if method == "HEAD" or (answer.status == 401 and challenge and not answer.body):
        return found  # no body to check: HEAD, or an RFC 6750 section 3.1 challenge alone
    if 300 <= answer.status < 400:
        if not target.html:
            found.append(f"redirect {answer.status} from a JSON endpoint")
        query = parse_qs(urlsplit(answer.headers.get("location", "")).query)
        redirected = query.get("error", [None])[0]
        if redirected is not None and redirected not in ALLOWED_ERRORS:
            found.append(f"redirect with unknown error {redirected!r}")
        for description in query.get("error_description", []):
            if not DESCRIPTION_CHARS.fullmatch(description):
                found.append(f"redirect error_description {description!r} outside RFC 6749 5.2")
        return found
    if answer.status < 400:
        return found
    if target.html and answer.content_type == "text/html":
        return found
    found += error_body_problems(answer)
    return found


def error_body_problems(answer: Answer) -> list[str]:
    """An RFC 6749 section 5.2 error body: JSON object, known ``error``, string description."""
    if answer.content_type != "application/json":
        return [f"error with content type {answer.content_type!r}"]
    try:
        body = json.loads(answer.body)
    except ValueError:
        return ["error body is not JSON"]
    if not isinstance(body, dict):
        return ["error body is not a JSON object"]
    out = []
    if body.get("error") not in ALLOWED_ERRORS:
        out.append(f"unknown error code {body.get('error')!r}")
    if "error_description" in body and not isinstance(body["error_description"], str):
        out.append("error_description is not a string")
    elif not DESCRIPTION_CHARS.fullmatch(body.get("error_description", "")):
        out.append(f"error_description {body['error_description']!r} outside RFC 6749 section 5.2")
    if "error_uri" in body and not isinstance(body["error_uri"], str):
        out.append("error_uri is not a string")
    return out
