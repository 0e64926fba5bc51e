"""The ``authorization_details`` request parameter (RFC 9396, rich authorization requests).

A JSON array of objects, each naming its ``type`` (section 2); anything else is refused with
``invalid_authorization_details`` (section 5). The polled grants carry it unchanged into the
access token, the token response (section 7) and introspection (section 9.2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidAuthorizationDetails

#: a request parameter, not a document: longer values are refused
MAX_LENGTH = 8 * 1024
#: RFC 9396 section 2.2 common fields, with the JSON types they must have
COMMON_FIELDS: Mapping[str, type | tuple[type, ...]] = {
    "locations": list,
    "actions": list,
    "datatypes": list,
    "identifier": str,
    "privileges": list,
}


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_authorization_details(value: str | None) -> tuple[Mapping[str, Any], ...] | None:
    """The validated array, or None when the parameter was not sent."""
    if value is None:
        return None
    if len(value) > MAX_LENGTH:
        raise InvalidAuthorizationDetails("authorization_details is too long")
    try:
        data = json.loads(value, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise InvalidAuthorizationDetails(
            "authorization_details must be a JSON array (RFC 9396 section 2)"
        ) from None
    if not isinstance(data, list) or not data:
        raise InvalidAuthorizationDetails("authorization_details must be a non-empty JSON array of objects")
    for i, detail in enumerate(data):
        if not isinstance(detail, dict):
            raise InvalidAuthorizationDetails(f"authorization_details[{i}] must be a JSON object")
        kind = detail.get("type")
        if not isinstance(kind, str) or not kind:
            raise InvalidAuthorizationDetails(f"authorization_details[{i}] needs a 'type' string")
        for name, expected in COMMON_FIELDS.items():
            if name in detail and not isinstance(detail[name], expected):
                raise InvalidAuthorizationDetails(
                    f"authorization_details[{i}].{name} has the wrong JSON type"
                )
            if isinstance(detail.get(name), list) and not all(isinstance(v, str) for v in detail[name]):
                raise InvalidAuthorizationDetails(f"authorization_details[{i}].{name} must hold strings")
    return tuple(data)
