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

from ..dpop import Nonces, ProofCheck, bound_jkt, check_proof, proof_header
from ..errors import InvalidDPoPProof, UseDPoPNonce
from ..state import IdPState
from ..verify import DPOP_ALGS, RESOURCE_SERVER_LEEWAY

#: the ``algs`` auth-param of every DPoP challenge (RFC 9449 §7.1)
ALGS_PARAM = f'algs="{" ".join(DPOP_ALGS)}"'


@dataclass(slots=True)
class DPoPPolicy:
    """What one mock API demands of DPoP: the scheme for every token, and/or its own nonce."""

    required: bool = False
    nonce: bool = False
    nonces: Nonces = field(default_factory=Nonces)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request with a valid token is still refused: the challenge's scheme and error."""

    error: str
    description: str
    scheme: str = "DPoP"
    headers: Mapping[str, str] = field(default_factory=dict)


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
    jkt = bound_jkt(claims)
    if scheme == "bearer":
        if jkt is not None:
            return Refusal(
                "invalid_token", "a DPoP-bound token must be sent with the DPoP scheme and a proof"
            )
        if policy.required:
            return Refusal("invalid_token", "this API accepts only DPoP-bound tokens")
        return None
    if jkt is None:
        return Refusal("invalid_token", "the token is not DPoP-bound; send it as Bearer")
    proof = proof_header(request.headers) if len(request.headers.getall("DPoP", [])) < 2 else None
    if proof is None:
        return Refusal("invalid_dpop_proof", "send exactly one DPoP proof with a DPoP-bound token")
    origin = urlsplit(api_url)
    now = state.clock.now()
    check = ProofCheck(
        method=request.method,
        url=f"{origin.scheme}://{origin.netloc}{request.path}",
        now=now,
        max_age=RESOURCE_SERVER_LEEWAY,
        access_token=token,
        jkt=jkt,
        nonces=policy.nonces if policy.nonce else None,
        nonce_status=401,
    )
    try:
        check_proof(
            proof, check, lambda jti, until: state.store.remember_jti(f"dpop:{api_url}", jti, until, now)
        )
    except UseDPoPNonce as exc:
        return Refusal("use_dpop_nonce", exc.description, headers={"DPoP-Nonce": exc.nonce})
    except InvalidDPoPProof as exc:
        return Refusal("invalid_dpop_proof", exc.description)
    return None
