"""An MCP server built with the MCP Python SDK, protected by mockidp access tokens.

It is what a team shipping an MCP server would write: the SDK's streamable HTTP transport, its
bearer-token middleware and RFC 9728 protected-resource metadata, and a ``TokenVerifier`` that
validates RFC 9068 access tokens strictly with PyJWT and the IdP's published JWKS (nothing
in-process from mockidp), so the interop test proves the tokens work for an unrelated validator.
The server runs under uvicorn in a thread on a socket bound to 127.0.0.1 before the app is built,
because the server's canonical URL (its port) is the audience its tokens must carry.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
import httpx2
import jwt
import uvicorn
from mcp.client.auth import AuthorizationCodeResult
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

#: RFC 9068 section 2.2: claims every access token carries
REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]
ALLOWED_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]


class JwtVerifier:
    """The SDK's ``TokenVerifier``: a token is accepted only if every RFC 9068 section 4 check passes.

    Returning ``None`` makes the SDK's middleware answer 401 ``invalid_token``; the required
    scope is left to the middleware (``AuthSettings.required_scopes``), which answers 403.
    """

    def __init__(self, issuer: str, audience: str) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks = jwt.PyJWKClient(f"{issuer.rstrip('/')}/jwks", cache_keys=True, timeout=5)
        #: why the last token was refused, for the tests' messages
        self.last_error = ""

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims = await anyio.to_thread.run_sync(self._decode, token)
        except (jwt.PyJWTError, ValueError) as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            return None
        scope = claims.get("scope", "")
        return AccessToken(
            token=token,
            client_id=claims["client_id"],
            scopes=scope.split() if isinstance(scope, str) else [],
            expires_at=claims["exp"],
            resource=self.audience,  # the audience check in _decode proved it
            subject=claims["sub"],
            claims=claims,
        )

    def _decode(self, token: str) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in ("at+jwt", "application/at+jwt"):
            raise ValueError(f"typ {typ!r} is not at+jwt")  # RFC 9068 section 4
        key = self.jwks.get_signing_key_from_jwt(token)  # by kid, from the IdP's JWKS only
        if header.get("alg") not in ALLOWED_ALGS or header.get("alg") != key.algorithm_name:
            raise ValueError(f"alg {header.get('alg')!r} is not the key's algorithm")
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[key.algorithm_name],
            audience=self.audience,
            issuer=self.issuer,
            leeway=30,
            options={"require": REQUIRED_CLAIMS},
        )
        if not isinstance(claims["sub"], str) or not isinstance(claims["client_id"], str):
            raise ValueError("sub and client_id must be strings")
        return claims


def build_server(issuer: str, url: str, scope: str) -> tuple[MCPServer, JwtVerifier]:
    """An MCP server at ``url`` (its canonical resource URL) accepting ``issuer``'s tokens."""
    verifier = JwtVerifier(issuer, url)
    server = MCPServer(
        name="whoami-server",
        token_verifier=verifier,
        # From plain strings: AnyHttpUrl("http://host:port") would gain a "/" path, the PRM would
        # name "http://host:port/" as authorization server, and the SDK client would then refuse
        # mockidp's metadata, whose issuer has no trailing slash (RFC 8414 section 3.3).
        auth=AuthSettings.model_validate(
            {
                "issuer_url": issuer,
                "resource_server_url": url,
                "required_scopes": [scope],
                # the SDK also compares AccessToken.resource with resource_server_url
                "validate_token_resource": True,
            }
        ),
    )

    @server.tool()
    def whoami() -> str:
        """The ``sub`` of the access token the request came with."""
        token = get_access_token()
        return (token.subject or "") if token else ""

    return server, verifier


class McpServerThread:
    """``build_server`` under uvicorn on 127.0.0.1 in a daemon thread; a context manager.

    ``tls``: served over https with a certificate from mockidp's local CA, and fetching the
    IdP's JWKS trusting that CA (for an IdP started with ``tls=True``)."""

    def __init__(self, issuer: str, scope: str, path: str = "/mcp", *, tls: bool = False) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.sock.getsockname()[1]}{path}"
        self.mcp, self.verifier = build_server(issuer, self.url, scope)
        app = self.mcp.streamable_http_app(streamable_http_path=path, host="127.0.0.1")
        certificate: dict[str, Any] = {}
        if tls:
            import mockidp

            self.verifier.jwks = jwt.PyJWKClient(
                f"{issuer}/jwks", cache_keys=True, timeout=5, ssl_context=mockidp.ssl_context()
            )
            cert = mockidp.issue_cert("127.0.0.1")
            certificate = {"ssl_certfile": str(cert.cert_path), "ssl_keyfile": str(cert.key_path)}
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2, **certificate
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> McpServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the MCP server did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


class MemoryStorage:
    """The SDK client's ``TokenStorage``, kept in memory for one test."""

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
    """Plays the user's browser for the SDK's ``OAuthClientProvider``: opens the authorize URL
    (``login: auto`` answers at once) and reads ``code``, ``state`` and ``iss`` from the
    redirect to ``redirect_uri``, which it does not follow. ``verify``: the CA for https."""

    def __init__(self, redirect_uri: str, verify: ssl.SSLContext | bool = True) -> None:
        self.redirect_uri = redirect_uri
        self.verify = verify
        self.result: AuthorizationCodeResult | None = None
        self.authorize_url = ""

    async def redirect_handler(self, url: str) -> None:
        self.authorize_url = url
        async with httpx2.AsyncClient(
            follow_redirects=False, trust_env=False, timeout=10, verify=self.verify
        ) as http:
            response = await http.get(url)
        assert response.status_code in (302, 303), response.text
        location = response.headers["location"]
        assert location.startswith(self.redirect_uri + "?"), location
        params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        self.result = AuthorizationCodeResult(
            code=params.get("code", ""), state=params.get("state"), iss=params.get("iss")
        )

    async def callback_handler(self) -> AuthorizationCodeResult:
        assert self.result is not None, "the redirect handler did not run"
        return self.result


def tool_text(result: Any) -> str:
    """The text a tool call answered (``whoami``: the token's subject), failing on an error."""
    assert not result.is_error, result
    text = result.content[0]
    assert text.type == "text"
    return str(text.text)
