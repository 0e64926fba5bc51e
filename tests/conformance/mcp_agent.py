"""An MCP client built on the MCP Python SDK, for ``check-agent --profile mcp``: correct, or broken.

    python mcp_agent.py [--skip PRACTICE]

It reads ``MOCKIDP_MCP_URL`` and ``MOCKIDP_REDIRECT_URI`` like any agent under the MCP
profile (and ``MOCKIDP_CLIENT_METADATA_URL`` when the trial hosts its client ID metadata
document), lets the SDK's ``OAuthClientProvider`` do what an MCP client does on a 401 (RFC 9728
discovery, RFC 8414 metadata, RFC 7591 registration or its document URL as client_id, code
flow with PKCE and ``resource``),
lists the server's tools and calls the first one. Each ``--skip`` breaks exactly one practice
with a small patch around the SDK, the way a careless client would.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.auth import oauth2 as sdk_oauth2
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult

SKIPS = (
    "iss-check",  # never compares the RFC 9207 iss of the authorization response
    "scope-challenge",  # ignores the scope a 401/403 WWW-Authenticate names
    "retry-limit",  # calls the tool again and again while the server answers 403
    "issuer-binding",  # keeps its registration when the authorization server changes
    "cimd",  # ignores its client ID metadata document and registers dynamically
)
#: how often the retry-limit breakage calls the tool: no client should get near this
ENDLESS = 12


class MemoryStorage:
    """The SDK's ``TokenStorage``, kept in memory for one run."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class HeadlessBrowser:
    """Plays the user's browser: opens the authorize URL (the IdP signs in at once) and reads
    ``code``, ``state`` and ``iss`` from the redirect, which it does not follow."""

    def __init__(self, redirect_uri: str) -> None:
        self.redirect_uri = redirect_uri
        self.result: AuthorizationCodeResult | None = None

    async def redirect_handler(self, url: str) -> None:
        async with httpx2.AsyncClient(follow_redirects=False, trust_env=False, timeout=5) as http:
            response = await http.get(url)
        location = response.headers.get("location", "")
        if response.status_code not in (302, 303) or not location.startswith(self.redirect_uri):
            raise RuntimeError(
                f"the authorization endpoint said {response.status_code}: {response.text[:200]}"
            )
        params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        if "error" in params:
            raise RuntimeError(f"authorization refused: {params}")
        self.result = AuthorizationCodeResult(
            code=params.get("code", ""), state=params.get("state"), iss=params.get("iss")
        )

    async def callback_handler(self) -> AuthorizationCodeResult:
        assert self.result is not None, "the redirect handler did not run"
        return self.result


def break_sdk(skip: str | None) -> None:
    """Patch the one SDK function whose check ``skip`` names."""
    if skip == "iss-check":

        def ignore_iss(iss: str | None, metadata: Any) -> None:
            return None

        setattr(sdk_oauth2, "validate_authorization_response_iss", ignore_iss)  # noqa: B010
    elif skip == "scope-challenge":

        def no_scope(response: httpx2.Response) -> str | None:
            return None

        setattr(sdk_oauth2, "extract_scope_from_www_auth", no_scope)  # noqa: B010
    elif skip == "issuer-binding":

        def always(client_info: Any, issuer: str, client_metadata_url: str | None) -> bool:
            return True

        setattr(sdk_oauth2, "credentials_match_issuer", always)  # noqa: B010


async def run(url: str, redirect_uri: str, skip: str | None) -> str:
    browser = HeadlessBrowser(redirect_uri)
    # the SDK never fetches its own document (the IdP does), so it needs no trust in its host
    document_url = None if skip == "cimd" else os.environ.get("MOCKIDP_CLIENT_METADATA_URL")
    provider = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="mockidp mcp agent",
            redirect_uris=[redirect_uri],  # type: ignore[list-item]  # pydantic coerces str
            grant_types=["authorization_code", "refresh_token"],
            token_endpoint_auth_method="none",
        ),
        storage=MemoryStorage(),
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
        client_metadata_url=document_url,
    )
    with anyio.fail_after(20):
        async with (
            httpx2.AsyncClient(auth=provider, trust_env=False, timeout=10) as http,
            Client(streamable_http_client(url, http_client=http), cache=None) as client,
        ):
            tools = await client.list_tools()
            name = tools.tools[0].name
            result = await call(client, name)
            for _ in range(ENDLESS if skip == "retry-limit" else 0):
                if not isinstance(result, MCPError):
                    break
                result = await call(client, name)  # the SDK steps up once per call: this loops
    if isinstance(result, MCPError) or result.is_error:
        raise RuntimeError(f"the tool {name} failed: {result}")
    text = result.content[0]
    return text.text if text.type == "text" else str(text)


async def call(client: Client, name: str) -> CallToolResult | MCPError:
    try:
        return await client.call_tool(name, {})
    except MCPError as exc:  # the server's 403 after the SDK's one step-up
        return exc


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip", choices=SKIPS)
    args = parser.parse_args()
    break_sdk(args.skip)
    try:
        said = anyio.run(run, os.environ["MOCKIDP_MCP_URL"], os.environ["MOCKIDP_REDIRECT_URI"], args.skip)
    except Exception as exc:  # noqa: BLE001  # an agent reports and exits 1 whatever went wrong
        print(f"mcp agent: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"mcp agent: done: {said}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
