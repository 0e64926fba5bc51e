"""The OpenID Connect ``claims`` request parameter (Core section 5.5) and ``acr_values``.

``claims`` is a JSON object whose ``id_token`` and ``userinfo`` members name individual
claims (``null`` or ``{"essential": true, "value": ..., "values": [...]}``). The named user
claims are released in addition to what the scopes release; ``id_token.acr`` with ``value``
or ``values`` asks for sign-in levels like ``acr_values``. Members this IdP does not know are
ignored, as section 5.5 requires; a malformed parameter is ``invalid_request``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidRequest

#: a claims parameter longer than this is refused before parsing (bounded work)
MAX_CLAIMS_PARAMETER = 4096
MAX_ACR_VALUES = 20


@dataclass(frozen=True, slots=True)
class ClaimsRequest:
    id_token: tuple[str, ...] = ()
    userinfo: tuple[str, ...] = ()
    #: sign-in levels asked for through ``id_token.acr``, preferred first
    acr_values: tuple[str, ...] = ()


def parse_acr_values(value: str | None) -> tuple[str, ...]:
    """``acr_values``: space-separated, in order of preference (OIDC Core 3.1.2.1)."""
    if value is None:
        return ()
    values = tuple(dict.fromkeys(v for v in value.split(" ") if v))
    if not values or len(values) > MAX_ACR_VALUES:
        raise InvalidRequest(f"acr_values must name 1 to {MAX_ACR_VALUES} space-separated values")
    return values


def parse_claims_request(value: str | None) -> ClaimsRequest:
    if value is None:
        return ClaimsRequest()
    if len(value) > MAX_CLAIMS_PARAMETER:
        raise InvalidRequest("the claims parameter is too long")
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):
        raise InvalidRequest("the claims parameter must be a JSON object (OIDC Core 5.5)") from None
    if not isinstance(data, dict):
        raise InvalidRequest("the claims parameter must be a JSON object (OIDC Core 5.5)")
    id_token = _member(data, "id_token")
    return ClaimsRequest(
        id_token=tuple(id_token),
        userinfo=tuple(_member(data, "userinfo")),
        acr_values=_acr(id_token.get("acr")),
    )


def _member(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    member = data.get(name)
    if member is None:
        return {}
    if not isinstance(member, dict):
        raise InvalidRequest(f"claims.{name} must be a JSON object")
    for claim, request in member.items():
        if request is not None and not isinstance(request, dict):
            raise InvalidRequest(f"claims.{name}.{claim} must be null or a JSON object")
        if isinstance(request, dict):
            if "essential" in request and not isinstance(request["essential"], bool):
                raise InvalidRequest(f"claims.{name}.{claim}.essential must be true or false")
            if "values" in request and not isinstance(request["values"], list):
                raise InvalidRequest(f"claims.{name}.{claim}.values must be an array")
    return member


def _acr(request: Any) -> tuple[str, ...]:
    if not isinstance(request, dict):
        return ()
    wanted = list(request.get("values") or [])
    if "value" in request:
        wanted.insert(0, request["value"])
    return tuple(v for v in wanted[:MAX_ACR_VALUES] if isinstance(v, str) and v)
