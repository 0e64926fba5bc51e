"""Reading a bearer token from a request (RFC 6750 section 2): the one bearer reader.

:func:`header_token` parses ``Authorization: Bearer`` (section 2.1) for the IdP and the mock
APIs alike. The IdP's endpoints (:func:`bearer_token`) also take a form-body ``access_token``,
never both at once; the mock APIs take only the header. A query ``access_token`` is ignored
everywhere (OAuth 2.1 section 5.1). Challenges follow RFC 6750 section 3.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from aiohttp import web

from ..errors import InvalidRequest, InvalidToken, OAuthError, safe_description
from .request_params import FORM_TYPE, form_params

BARE_CHALLENGE = 'Bearer realm="mockidp"'
_UNSAFE = re.compile(r'[^\x20-\x7e]|["\\]')


def challenge(error: str, description: str, **extra: str) -> dict[str, str]:
    """A ``WWW-Authenticate`` header with an error code (quoted-string safe)."""
    parts = [f'error="{error}"', f'error_description="{safe_description(description)}"']
    parts += [f'{name}="{_UNSAFE.sub("", value)}"' for name, value in extra.items()]
    return {"WWW-Authenticate": f"{BARE_CHALLENGE}, " + ", ".join(parts)}


def invalid_token(exc: InvalidToken) -> InvalidToken:
    """The same error, carrying its RFC 6750 challenge."""
    return InvalidToken(exc.description, headers=challenge("invalid_token", exc.description))


def scheme_and_token(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """(scheme, token) of ``Authorization: Bearer|DPoP <token>``, the scheme in lower case
    (RFC 9110 section 11.1; RFC 9449 section 7.1); None for any other credentials or none."""
    value = headers.get("Authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    scheme = scheme.lower()
    return (scheme, token.strip()) if scheme in ("bearer", "dpop") else None


def header_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer`` header (RFC 6750 section 2.1).

    The scheme is case-insensitive (RFC 9110 section 11.1). ``None`` when the request carries
    no Bearer credentials; ``""`` when the scheme is Bearer but no token follows.
    """
    value = headers.get("Authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def bearer_token(request: web.Request) -> str | None:
    """The presented token, ``None`` when there is none (answer with a bare challenge)."""
    header = header_token(request.headers)
    body_token: str | None = None
    if request.method == "POST" and request.content_type == FORM_TYPE:
        body_token = (await form_params(request)).get("access_token")
    if header is None:
        return body_token
    if body_token is not None:
        raise _bad_request("send the access token in the header or the body, not both")
    if not header:
        raise invalid_token(InvalidToken("the Authorization header carries no token"))
    return header


def _bad_request(description: str) -> OAuthError:
    return InvalidRequest(description, headers=challenge("invalid_request", description))


def missing_token() -> web.Response:
    """401 with a bare challenge: no token was presented (RFC 6750 section 3.1)."""
    return web.Response(status=401, headers={"WWW-Authenticate": BARE_CHALLENGE, "Cache-Control": "no-store"})
