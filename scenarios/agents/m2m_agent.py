"""A machine-to-machine agent done right: client credentials, one token per API, least privilege.

Standard library only (plus nothing): it reads the MOCKIDP_* environment that
``mockidp check-agent`` and ``mockidp run`` provide, and calls every mock API once.

- checks that the metadata's ``issuer`` is the issuer it was given (RFC 8414 section 3.3);
- asks for each API's token with an RFC 8707 ``resource`` and only ``<api>:read``;
- waits ``Retry-After`` on 429/503 from the token endpoint;
- after a 401 from an API, gets a new token once and retries;
- keeps credentials out of URLs (HTTP Basic for the client, a header for the token).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy


class Stop(Exception):
    pass


def fetch(
    url: str, *, data: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any, Any]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})  # noqa: S310 - http from MOCKIDP_*
    try:
        with OPENER.open(request, timeout=5) as response:
            return response.status, json.load(response), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, None, exc.headers


def apis() -> dict[str, str]:
    prefix, suffix = "MOCKIDP_API_", "_URL"
    return {
        k[len(prefix) : -len(suffix)].lower(): v
        for k, v in sorted(os.environ.items())
        if k.startswith(prefix) and k.endswith(suffix)
    }


def metadata(issuer: str) -> dict[str, Any]:
    status, doc, _ = fetch(f"{issuer}/.well-known/oauth-authorization-server")
    if status != 200 or not isinstance(doc, dict):
        raise Stop(f"no metadata ({status})")
    if doc.get("issuer") != issuer:
        raise Stop(f"metadata issuer {doc.get('issuer')!r} is not {issuer!r}: refusing to use it")
    return doc


def token(endpoint: str, resource: str, scope: str) -> str:
    basic = f"{os.environ['MOCKIDP_CLIENT_ID']}:{os.environ['MOCKIDP_CLIENT_SECRET']}"
    headers = {"Authorization": "Basic " + base64.b64encode(basic.encode()).decode()}
    form = {"grant_type": "client_credentials", "resource": resource, "scope": scope}
    for _ in range(3):
        status, body, answer_headers = fetch(endpoint, data=form, headers=headers)
        if status in (429, 503):
            time.sleep(min(float(answer_headers.get("Retry-After", "1")), 10.0))
            continue
        if status != 200:
            raise Stop(f"token endpoint said {status}")
        return str(body["access_token"])
    raise Stop("token endpoint kept refusing")


def call(endpoint: str, name: str, url: str) -> None:
    access = token(endpoint, url, f"{name}:read")
    for attempt in range(2):
        status, _, _ = fetch(url, headers={"Authorization": f"Bearer {access}"})
        if status == 200:
            print(f"{name}: ok")
            return
        if status == 401 and attempt == 0:
            access = token(endpoint, url, f"{name}:read")
            continue
        raise Stop(f"{name} said {status}")


def main() -> int:
    try:
        doc = metadata(os.environ["MOCKIDP_ISSUER"])
        for name, url in apis().items():
            call(doc["token_endpoint"], name, url)
    except Stop as exc:
        print(f"m2m-agent: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
