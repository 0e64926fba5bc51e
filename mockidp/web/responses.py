"""Response helpers shared by handlers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ..errors import safe_description

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None, no_store: bool = False
) -> web.Response:
    merged = dict(NO_STORE) if no_store else {}
    merged.update(headers or {})
    # aiohttp refuses a Content-Type header next to its own content_type argument
    content_type = merged.pop("Content-Type", "application/json")
    return web.json_response(data, status=status, headers=merged, content_type=content_type)


def oauth_error_body(error: str, description: str) -> dict[str, str]:
    """An RFC 6749 section 5.2 error body; the description is fitted to its character set."""
    return {"error": error, "error_description": safe_description(description)}
