"""One mock protected API: bearer-token checks, RFC 6750 challenges, RFC 9728 metadata, call records.

An API's URL is also its RFC 8707 resource identifier, so a token is for this API exactly when
its ``aud`` holds that URL. ``GET`` needs ``<name>:read``; every other method ``<name>:write``.
An API with :class:`McpOptions` speaks MCP instead (:mod:`.mcp`), behind the same checks.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .. import base64url
from ..acr import satisfies
from ..errors import InvalidToken, safe_description
from ..state import IdPState
from ..verify import DPOP_ALGS, RESOURCE_SERVER_LEEWAY, AccessTokenPolicy, scopes_of, verify
from ..web.bearer import scheme_and_token
from .dpop import ALGS_PARAM, DPoPPolicy, dpop_refusal
from .mcp_options import McpOptions


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiCall:
    """One request to a mock API, with the claims of its token when the token was valid."""

    api: str
    method: str
    path: str
    status: int
    #: query parameter names (a token in the URL shows up here as ``access_token``)
    query: tuple[str, ...] = ()
    #: query parameters, whatever their name, whose value is a JWT: a token leaked into the URL
    url_tokens: tuple[str, ...] = ()
    token_sent: bool = False
    claims: Mapping[str, Any] | None = None
    error: str | None = None
    #: the ``aud`` a refused token claimed (read without verification, for diagnostics)
    token_aud: Any = None
    time: float = 0.0
    #: an MCP call's JSON-RPC method ("" for a plain HTTP call)
    rpc: str = ""
    #: the scope the call needed ("" : the method's, see :meth:`MockApi.required_scope`)
    needed: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "query": list(self.query),
            "url_tokens": list(self.url_tokens),
            "token_sent": self.token_sent,
            "claims": dict(self.claims) if self.claims is not None else None,
            "error": self.error,
            "rpc": self.rpc,
        }


@dataclass(frozen=True, slots=True)
class StepUp:
    """What a route demands of the sign-in behind a token (RFC 9470): a level, a recent sign-in."""

    acr: str | None = None
    max_age: int | None = None

    def refusal(self, levels: tuple[str, ...], claims: Mapping[str, Any], now: float) -> str | None:
        """Why ``claims`` fall short, or None when they meet this requirement."""
        if self.acr is not None and not satisfies(levels, _text(claims.get("acr")), self.acr):
            return f"a sign-in at level {self.acr} or stronger is required"
        if self.max_age is not None:
            auth_time = claims.get("auth_time")
            if isinstance(auth_time, bool) or not isinstance(auth_time, int | float):
                return "the token does not say when the user signed in (auth_time)"
            if now - auth_time > self.max_age:
                return f"the sign-in is older than {self.max_age} seconds"
        return None

    def challenge_params(self) -> list[str]:
        params = []
        if self.acr is not None:
            params.append(f'acr_values="{self.acr}"')
        if self.max_age is not None:
            params.append(f'max_age="{self.max_age}"')
        return params


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(slots=True)
class MockApi:
    """A resource server named ``name`` mounted at ``/<name>`` on the hosting server."""

    name: str
    url: str = ""
    #: answer the next N otherwise valid tokens with 401 invalid_token (re-authentication trial)
    reject_valid: int = 0
    #: answer GETs in this many pages, linked with ``Link: <...?page=N>; rel="next"`` (RFC 8288)
    pages: int = 1
    #: seconds before answering page 2 and later: a slow API keeps a paging agent busy
    page_delay: float = 0.0
    #: route below the API ("" = all of it) -> the sign-in it demands (see :meth:`require`)
    step_up: dict[str, StepUp] = field(default_factory=dict)
    #: speak MCP (streamable HTTP, JSON-RPC over POST) with these options; None: a plain API
    mcp: McpOptions | None = None
    #: the migration trial has switched this API to the second authorization server
    migrated: bool = False
    #: DPoP (RFC 9449): the scheme is always accepted; :meth:`require_dpop` makes it the only one
    dpop: DPoPPolicy = field(default_factory=DPoPPolicy)
    calls: list[ApiCall] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def require(self, route: str = "", *, acr: str | None = None, max_age: int | None = None) -> StepUp:
        """Demand ``acr`` (or stronger) and/or a sign-in at most ``max_age`` seconds old on
        ``route`` (a path below the API, e.g. ``/admin``; "" for every route). A token that
        falls short gets 401 ``insufficient_user_authentication`` (RFC 9470 section 3)."""
        if max_age is not None and max_age < 0:
            raise ValueError("max_age must not be negative")
        rule = StepUp(acr=acr, max_age=max_age)
        self.step_up[route.rstrip("/")] = rule
        return rule

    def require_dpop(self, *, nonce: bool = False) -> DPoPPolicy:
        """Accept only DPoP-bound tokens with a valid proof (RFC 9449 §7); ``nonce`` also demands
        this API's own ``DPoP-Nonce`` in every proof (§9)."""
        self.dpop.required = True
        self.dpop.nonce = nonce
        return self.dpop

    def step_up_for(self, path: str) -> StepUp | None:
        """The requirement of the longest route that ``path`` (below the API) falls under."""
        below = path[len(self.path) :]
        best: tuple[int, StepUp] | None = None
        for route, rule in self.step_up.items():
            covers = not route or below == route or below.startswith(route + "/")
            if covers and (best is None or len(route) > best[0]):
                best = (len(route), rule)
        return best[1] if best else None

    @property
    def scopes(self) -> tuple[str, str]:
        return (f"{self.name}:read", f"{self.name}:write")

    @property
    def path(self) -> str:
        return f"/{self.name}"

    @property
    def origin(self) -> str:
        return self.url[: -len(self.path)]

    @property
    def metadata_path(self) -> str:
        """Where the RFC 9728 metadata is: path-based (section 3.1) unless the MCP options move it."""
        location = self.mcp.metadata_location if self.mcp else "path"
        if location == "root":
            return "/.well-known/oauth-protected-resource"
        if location == "custom":
            return f"/custom/{self.name}/metadata.json"
        return f"/.well-known/oauth-protected-resource{self.path}"

    @property
    def metadata_url(self) -> str:
        return self.origin + self.metadata_path

    def required_scope(self, method: str) -> str:
        return self.scopes[0] if method in ("GET", "HEAD") else self.scopes[1]

    def metadata(self, issuer: str) -> dict[str, Any]:
        """The RFC 9728 section 2 protected-resource metadata document."""
        document: dict[str, Any] = {
            "resource": (self.mcp.resource or self.url) if self.mcp else self.url,
            "authorization_servers": [issuer],
            "scopes_supported": list(self.scopes),
            "bearer_methods_supported": ["header"],
            "resource_name": self.name,
            "dpop_signing_alg_values_supported": list(DPOP_ALGS),
        }
        if self.mcp and not self.mcp.scopes_supported:
            del document["scopes_supported"]
        if self.dpop.required:
            document["dpop_bound_access_tokens_required"] = True
        return document

    def page_of(self, request: web.Request) -> int:
        """The page a request asks for (``?page=N``; anything else is page 1)."""
        raw = request.query.get("page", "1")
        return min(max(int(raw), 1), self.pages) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1

    def delay(self, request: web.Request) -> float:
        return self.page_delay if self.page_of(request) > 1 else 0.0

    def snapshot(self) -> list[ApiCall]:
        with self.lock:
            return list(self.calls)

    def record(self, call: ApiCall) -> None:
        with self.lock:
            self.calls.append(call)

    def take_rejection(self) -> bool:
        with self.lock:
            if self.reject_valid > 0:
                self.reject_valid -= 1
                return True
            return False

    def challenge(
        self,
        error: str | None = None,
        description: str = "",
        scope: str = "",
        extra: tuple[str, ...] = (),
        scheme: str = "",
    ) -> str:
        """The ``WWW-Authenticate`` value (RFC 6750 section 3, RFC 9728 section 5.1, RFC 9470 section 3).

        ``scheme`` "" is Bearer, or DPoP when this API requires it; a DPoP challenge carries
        ``algs`` (RFC 9449 §7.1).
        """
        scheme = scheme or ("DPoP" if self.dpop.required else "Bearer")
        params = []
        if error:
            params.append(f'error="{error}"')
            if description:
                params.append(f'error_description="{safe_description(description)}"')
        if scope:
            params.append(f'scope="{scope}"')
        params.extend(extra)
        if scheme == "DPoP":
            params.append(ALGS_PARAM)
        if self.mcp is None or self.mcp.metadata_in_challenge:
            params.append(f'resource_metadata="{self.metadata_url}"')
        return f"{scheme} " + ", ".join(params)


def answer(state: IdPState, api: MockApi, request: web.Request) -> tuple[web.Response, ApiCall]:
    """Check the request's token and answer it; returns the response and its record."""
    refusal, call = gate(state, api, request, api.required_scope(request.method))
    if refusal is not None:
        return refusal, call
    assert call.claims is not None
    page = api.page_of(request)
    body: dict[str, Any] = {
        "api": api.name,
        "method": request.method,
        "sub": call.claims["sub"],
        "items": [f"{api.name}-{page}"],
    }
    links = {}
    if page < api.pages:
        body["next"] = f"{api.url}?page={page + 1}"
        links["Link"] = f'<{body["next"]}>; rel="next"'
    return web.json_response(body, headers=links), call


def gate(
    state: IdPState,
    api: MockApi,
    request: web.Request,
    needed: str,
    *,
    rpc: str = "",
    challenge_scope: str = "",
) -> tuple[web.Response | None, ApiCall]:
    """The token checks: a refusal and its record, or None and the record of an admitted call.

    ``challenge_scope`` goes into a 401's challenge (MCP servers name the scope there);
    a 403 names ``needed``.
    """
    sent = scheme_and_token(request.headers)  # the header only; the query is ignored
    scheme, token = sent if sent is not None and sent[1] else ("", None)
    base: dict[str, Any] = {
        "api": api.name,
        "method": request.method,
        "path": request.path,
        "query": tuple(request.query.keys()),
        "url_tokens": tuple(k for k, v in request.query.items() if looks_like_jwt(v)),
        "token_sent": token is not None,
        "time": state.clock.now(),
        "rpc": rpc,
        "needed": needed if rpc else "",
    }
    if token is None:
        headers = {"WWW-Authenticate": api.challenge(scope=challenge_scope)}
        return _error(401, "missing_token", headers), ApiCall(status=401, error="missing_token", **base)
    policy = AccessTokenPolicy(issuer=state.issuer, audiences=(api.url,), leeway=RESOURCE_SERVER_LEEWAY)
    try:
        claims = verify(token, state.keys.find, policy, state.clock.now(), revoked=state.store.is_revoked)
    except InvalidToken as exc:
        challenge = api.challenge(
            "invalid_token", exc.description, challenge_scope, scheme="DPoP" if scheme == "dpop" else ""
        )
        call = ApiCall(status=401, error="invalid_token", token_aud=_claimed_aud(token), **base)
        return _error(401, "invalid_token", {"WWW-Authenticate": challenge}), call
    refusal = dpop_refusal(state, api.dpop, api.url, request, scheme, token, claims)
    if refusal is not None:
        challenge = api.challenge(refusal.error, refusal.description, scheme="DPoP")
        call = ApiCall(status=401, error=refusal.error, claims=claims, **base)
        return _error(401, refusal.error, {"WWW-Authenticate": challenge, **refusal.headers}), call
    if api.take_rejection():
        headers = {
            "WWW-Authenticate": api.challenge("invalid_token", "token no longer accepted", challenge_scope)
        }
        call = ApiCall(status=401, error="invalid_token", claims=claims, **base)
        return _error(401, "invalid_token", headers), call
    rule = api.step_up_for(request.path)
    why = rule.refusal(state.config.acr_levels, claims, state.clock.now()) if rule else None
    if rule is not None and why is not None:
        error = "insufficient_user_authentication"
        headers = {"WWW-Authenticate": api.challenge(error, why, extra=tuple(rule.challenge_params()))}
        call = ApiCall(status=401, error=error, claims=claims, **base)
        return _error(401, error, headers), call
    never = api.mcp is not None and api.mcp.step_up_never_enough and rpc == "tools/call"
    if never or needed not in scopes_of(claims):
        headers = {"WWW-Authenticate": api.challenge("insufficient_scope", scope=needed)}
        call = ApiCall(status=403, error="insufficient_scope", claims=claims, **base)
        return _error(403, "insufficient_scope", headers), call
    return None, ApiCall(status=200, claims=claims, **base)


def looks_like_jwt(value: str) -> bool:
    """Whether ``value`` is a compact JWS/JWE: its first segment decodes to a JSON header with ``alg``.

    Names alone miss a token sent as ``?token=`` or ``?jwt=``; the value gives it away.
    """
    parts = value.split(".")
    if len(parts) not in (3, 5):
        return False
    try:
        header = json.loads(base64url.decode(parts[0]))
    except ValueError:
        return False
    return isinstance(header, dict) and "alg" in header


def _claimed_aud(token: str) -> Any:
    """The unverified ``aud`` of a refused token, or None when it cannot be read."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64url.decode(parts[1]))
    except ValueError:
        return None
    return payload.get("aud") if isinstance(payload, dict) else None


def _error(status: int, error: str, headers: dict[str, str]) -> web.Response:
    return web.json_response({"error": error}, status=status, headers=headers)
