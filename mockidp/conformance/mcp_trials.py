"""``check-agent --profile mcp``: trials for MCP clients, named after the official conformance suite.

Each trial is data, like the OAuth ones (agent_trials.py): IdP config keys (misbehaviour
switches), how the mock APIs behave as MCP servers (:class:`McpOptions`), the exit the agent
must show and the checks. Each names the scenario of the MCP conformance suite
(github.com/modelcontextprotocol/conformance) that tests the same client behaviour, so a
report maps onto the official one, and the spec clause behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..misbehaviour import WRONG_ISSUER
from ..resources.mcp_options import WRONG_RESOURCE, McpOptions
from .agent_trials import Trial

MCP_APIS = ("inventory",)
#: where the agent's registration says its browser returns (never contacted: the agent reads it)
MCP_REDIRECT_URI = "http://127.0.0.1/callback"
AUTHZ = "MCP authorization 2025-11-25"
DRAFT = "MCP authorization 2026-07-28"
ISS_SUPPORT = "authorization_response_iss_parameter_supported"

MCP_BASELINE = (
    "exit-status",
    "tool-called",
    "metadata-discovery",
    "resource-indicator",
    "audience-per-api",
    "least-privilege",
    "pkce-s256",
    "state-checked",
    "no-credentials-in-url",
    "token-reuse",
)
PROCEEDS = ("exit-status", "tool-called")


def _scenario(name: str, **fields: Any) -> Trial:
    """A trial named after the official suite's ``auth/<name>`` scenario: the code flow, against
    an MCP server (an honest one unless ``mcp`` says otherwise)."""
    fields.setdefault("mcp", McpOptions())
    return Trial(name=name, scenario=f"auth/{name}", flows=("authorization_code",), **fields)


def _only_at(*paths: str) -> Mapping[str, object]:
    return {"metadata_only_at": list(paths)}


def _metadata(name: str, where: str, mcp: McpOptions, idp: Mapping[str, object]) -> Trial:
    return _scenario(
        name,
        description=f"{where}: the client finds both documents, signs in and calls the tool",
        spec=f"RFC 9728 section 3.1 and 5.1; RFC 8414 section 3.1; {AUTHZ}, authorization server discovery",
        idp=idp,
        mcp=mcp,
        checks=("exit-status", "tool-called", "metadata-discovery"),
    )


def _iss(name: str, what: str, iss: str, advertised: bool = True) -> Trial:
    switches: dict[str, object] = {"authorization_iss": iss}
    if not advertised:
        switches["metadata_omit"] = [ISS_SUPPORT]
    return _scenario(
        name,
        description=f"{what}: the client must stop before redeeming the code",
        spec=f"RFC 9207 section 2.4 (simple string comparison); {DRAFT} (SEP-2468)",
        idp={"misbehaviour": switches},
        expect_exit="nonzero",
        checks=("exit-status", "iss-checked"),
    )


MCP_TRIALS: tuple[Trial, ...] = (
    _scenario(
        "metadata-default",
        description=(
            "an honest server and IdP: the 401 names the path-based RFC 9728 metadata; the client "
            "discovers, registers, signs in with PKCE and resource, and calls the tool, the right way"
        ),
        spec=f"RFC 9728 section 3.1 and 5.1; RFC 8414 section 3; RFC 8707; {AUTHZ}",
        checks=MCP_BASELINE,
    ),
    _metadata(
        "metadata-var1",
        "the 401 names no metadata URL and the IdP serves only /.well-known/openid-configuration",
        McpOptions(metadata_in_challenge=False),
        {"misbehaviour": _only_at("/.well-known/openid-configuration{issuer_path}")},
    ),
    _metadata(
        "metadata-var2",
        "the metadata is only at the root well-known URI, not in the 401, and the issuer has a path "
        "(metadata at /.well-known/oauth-authorization-server/tenant1)",
        McpOptions(metadata_location="root", metadata_in_challenge=False),
        {
            "issuer": "/tenant1",
            "misbehaviour": _only_at("/.well-known/oauth-authorization-server{issuer_path}"),
        },
    ),
    _metadata(
        "metadata-var3",
        "the 401 names a custom metadata URL and the issuer with a path serves only "
        "/tenant1/.well-known/openid-configuration",
        McpOptions(metadata_location="custom"),
        {"issuer": "/tenant1", "misbehaviour": _only_at("{issuer_path}/.well-known/openid-configuration")},
    ),
    _scenario(
        "iss-supported",
        description="the IdP advertises and sends the right iss: the client accepts it and goes on",
        spec=f"RFC 9207 section 2.4; {DRAFT} (SEP-2468)",
        checks=PROCEEDS,
    ),
    _scenario(
        "iss-not-advertised",
        description="the IdP neither advertises nor sends iss: the client goes on without it",
        spec=f"RFC 9207 section 2.4; {DRAFT} (SEP-2468)",
        idp={"misbehaviour": {"authorization_iss": "missing", "metadata_omit": [ISS_SUPPORT]}},
        checks=PROCEEDS,
    ),
    _iss("iss-supported-missing", "the IdP advertises iss but leaves it out of the response", "missing"),
    _iss("iss-wrong-issuer", "the response's iss names another issuer", "wrong"),
    _iss(
        "iss-unexpected", "the IdP does not advertise iss, yet sends a wrong one", "wrong", advertised=False
    ),
    _iss("iss-normalized", "the response's iss is the issuer with a trailing slash", "variant"),
    _scenario(
        "metadata-issuer-mismatch",
        description="the IdP's metadata names another issuer: the client must not use its endpoints",
        spec=f"RFC 8414 section 3.3; {DRAFT} (SEP-2468)",
        idp={"misbehaviour": {"metadata_issuer": WRONG_ISSUER}},
        expect_exit="nonzero",
        checks=("exit-status", "metadata-issuer-checked"),
    ),
    _scenario(
        "resource-mismatch",
        description="the protected-resource metadata names another resource: the client must stop",
        spec=f"RFC 9728 section 3.3; RFC 8707; {AUTHZ}, resource parameter",
        mcp=McpOptions(resource=WRONG_RESOURCE),
        expect_exit="nonzero",
        checks=("exit-status", "resource-checked"),
    ),
    _scenario(
        "scope-from-www-authenticate",
        description="the 401 names <api>:read, the metadata lists read and write: the client asks for read",
        spec=f"RFC 6750 section 3; {AUTHZ}, scope selection strategy",
        checks=("exit-status", "tool-called", "scope-selection"),
    ),
    _scenario(
        "scope-from-scopes-supported",
        description="the 401 names no scope: the client asks for the metadata's scopes_supported",
        spec=f"RFC 9728 section 2; {AUTHZ}, scope selection strategy",
        mcp=McpOptions(scope_in_challenge=False),
        checks=("exit-status", "tool-called", "scope-selection"),
    ),
    _scenario(
        "scope-omitted-when-undefined",
        description="no scope in the 401, no scopes_supported anywhere: the client omits scope",
        spec=f"{AUTHZ}, scope selection strategy",
        idp={"misbehaviour": {"metadata_omit": ["scopes_supported"]}},
        mcp=McpOptions(scope_in_challenge=False, scopes_supported=False),
        checks=("exit-status", "tool-called", "scope-selection"),
    ),
    _scenario(
        "scope-step-up",
        description=(
            "tools/call needs <api>:write and answers 403 insufficient_scope naming it: the client "
            "re-authorizes for it (keeping its other scopes) and calls again"
        ),
        spec=f"RFC 6750 section 3.1; {AUTHZ}, scope challenge handling; SEP-2350",
        idp={"misbehaviour": {"registered_scope_ignored": True}},
        mcp=McpOptions(call_needs_write=True),
        checks=("exit-status", "tool-called", "scope-step-up"),
    ),
    _scenario(
        "scope-retry-limit",
        description="every tools/call gets 403 insufficient_scope, whatever the token: the client gives up",
        spec=f"{AUTHZ}, scope challenge handling (retry limits)",
        mcp=McpOptions(step_up_never_enough=True),
        expect_exit="nonzero",
        checks=("scope-retry-limit",),
    ),
    _scenario(
        "offline-access-scope",
        description="the IdP lists offline_access: the client registers for refresh_token and asks for it",
        spec=f"{DRAFT} (SEP-2207); OpenID Connect Core section 11",
        checks=("exit-status", "tool-called", "offline-access-requested"),
    ),
    _scenario(
        "offline-access-not-supported",
        description="the IdP does not list offline_access: the client does not ask for it",
        spec=f"{DRAFT} (SEP-2207); RFC 8414 section 2 (scopes_supported)",
        idp={"misbehaviour": {"metadata_omit": ["scopes_supported:offline_access"]}},
        checks=("exit-status", "tool-called", "offline-access-not-requested"),
    ),
    _scenario(
        "basic-cimd",
        description=(
            "the IdP offers both dynamic registration and client ID metadata documents, and the "
            "client has a document (MOCKIDP_CLIENT_METADATA_URL): it signs in with the document's "
            "URL as client_id instead of registering"
        ),
        spec=f"{AUTHZ}, client ID metadata documents; draft-ietf-oauth-client-id-metadata-document",
        idp={"dynamic_registration": True, "cimd": {"enabled": True}},
        client_document=True,
        checks=("exit-status", "tool-called", "cimd-used"),
    ),
    _scenario(
        "authorization-server-migration",
        description=(
            "after the first admitted call the metadata names a second IdP and old tokens get 401: "
            "the client registers with the new IdP instead of reusing its old client_id"
        ),
        spec=f"{DRAFT} (SEP-2352); RFC 7591 section 3",
        mcp=McpOptions(migrate=True),
        checks=("exit-status", "tool-called", "reregister-on-as-change"),
    ),
)
MCP_BY_NAME: Mapping[str, Trial] = {t.name: t for t in MCP_TRIALS}
#: the honest MCP trial: the control run of the trials where the agent must stop
MCP_CONTROL = MCP_BY_NAME["metadata-default"]
