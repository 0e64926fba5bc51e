"""Resolving a client ID metadata document before a handler looks its client up.

The fetch blocks, so it runs off the loop (``workers.off_loop``); the resolved client lands in
the store, where the synchronous checks that follow (``client_auth``, the authorization
request) find it like any registered client. The id comes from ``client_id`` or, for
``private_key_jwt``, from the assertion's ``sub`` (RFC 7523 section 3: ``sub`` is the client_id);
the assertion itself is verified later by client authentication, never here.
"""

from __future__ import annotations

import json

from ..base64url import decode
from ..client_documents import resolve_client, wants_document
from ..params import Params
from ..state import IdPState
from .workers import off_loop


async def resolve_document_client(state: IdPState, client_id: str | None) -> None:
    """Make sure a metadata-document ``client_id`` is resolved (or raise why it cannot be)."""
    if client_id is not None and wants_document(state, client_id):
        await off_loop(resolve_client, state, client_id)


def requested_client_id(params: Params) -> str | None:
    """The client a token, introspection or revocation request names, before authentication."""
    client_ids = params.getall("client_id")
    if len(client_ids) == 1:
        return client_ids[0]
    assertions = params.getall("client_assertion")
    if len(client_ids) == 0 and len(assertions) == 1:
        return _assertion_subject(assertions[0])
    return None


def _assertion_subject(assertion: str) -> str | None:
    """The unverified ``sub`` of a compact JWS, only to know which document to fetch."""
    parts = assertion.split(".")
    if len(parts) != 3 or len(parts[1]) > 8192:
        return None
    try:
        claims = json.loads(decode(parts[1]))
    except (ValueError, RecursionError):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub if isinstance(sub, str) else None
