"""How a mock API behaves as an MCP server: where its metadata is, what its challenges say.

Kept apart from :mod:`.api` (which reads these options) and :mod:`.mcp` (which speaks
JSON-RPC) so both can use them without importing each other. Every default is what the MCP
authorization spec asks of an honest server; each other value is one deliberate deviation a
check-agent trial (``--profile mcp``) puts a client through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: where the RFC 9728 metadata is: path-based well-known URI, the root one, or elsewhere
MetadataLocation = Literal["path", "root", "custom"]
#: the protected-resource metadata's ``resource`` in the resource-mismatch trial
WRONG_RESOURCE = "https://wrong-resource.invalid/mcp"


@dataclass(frozen=True, slots=True, kw_only=True)
class McpOptions:
    """One API's MCP behaviour (the defaults: an honest MCP server)."""

    #: where the protected-resource metadata is served (RFC 9728 section 3, SEP-985 order)
    metadata_location: MetadataLocation = "path"
    #: a 401 names the metadata URL (RFC 9728 section 5.1); without it the client must probe
    metadata_in_challenge: bool = True
    #: a 401 names the scope the request needs (MCP "scope selection strategy")
    scope_in_challenge: bool = True
    #: the metadata lists ``scopes_supported``
    scopes_supported: bool = True
    #: the metadata's ``resource`` (None: the API's URL, as RFC 9728 section 3.3 demands)
    resource: str | None = None
    #: ``tools/call`` needs ``<name>:write`` (a 403 ``insufficient_scope`` asks for it: step-up)
    call_needs_write: bool = False
    #: every ``tools/call`` gets 403 ``insufficient_scope``, whatever the token (retry limit)
    step_up_never_enough: bool = False
    #: after the first call it admits, the metadata names the second authorization server and
    #: tokens of the first are refused (authorization-server migration)
    migrate: bool = False
