"""The ``DPoP`` authorization scheme at a mock API (RFC 9449 §7): proof, ``ath`` and key binding.

:func:`dpop_refusal` runs once the access token itself is valid. A DPoP-bound token (``cnf.jkt``)
must come with the ``DPoP`` scheme and a proof of its key for this very request (§7.1); sent as
``Bearer`` it is refused (§7.2), which is the whole point of binding: a stolen token is useless
without the key. An API that requires DPoP (:meth:`MockApi.require_dpop`) refuses unbound tokens
too, and may demand its own nonce (§9).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from ..dpop import Nonces, Refusal, ResourceRequest, resource_refusal
from ..state import IdPState
from ..verify import DPOP_ALGS

#: the ``algs`` auth-param of every DPoP challenge (RFC 9449 §7.1)
ALGS_PARAM = f'algs="{" ".join(DPOP_ALGS)}"'


@dataclass(slots=True)
class DPoPPolicy:
    """What one mock API demands of DPoP: the scheme for every token, and/or its own nonce."""

    required: bool = False
    nonce: bool = False
    nonces: Nonces = field(default_factory=Nonces)


def dpop_refusal(
    state: IdPState,
    policy: DPoPPolicy,
    api_url: str,
    request: web.Request,
    scheme: str,
    token: str,
    claims: Mapping[str, Any],
) -> Refusal | None:
    """None when the request may use ``token`` as sent; else why not (RFC 9449 §7)."""
    origin = urlsplit(api_url)
    now = state.clock.now()
    return resource_refusal(
        request.headers,
        ResourceRequest(
            method=request.method,
            url=f"{origin.scheme}://{origin.netloc}{request.path}",
            scheme=scheme,
            token=token,
            claims=claims,
            now=now,
        ),
        required=policy.required,
        nonces=policy.nonces if policy.nonce else None,
        remember=lambda jti, until: state.store.remember_jti(f"dpop:{api_url}", jti, until, now),
    )
