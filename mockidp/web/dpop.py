"""DPoP at the token endpoint (RFC 9449 §5): the key a token request's proof binds its tokens to."""

from __future__ import annotations

from aiohttp import web

from ..config import ClientConfig
from ..dpop import ProofCheck, check_proof, proof_header
from ..errors import InvalidDPoPProof
from ..state import IdPState

#: the replay scope of proofs sent to the token endpoint
TOKEN_ENDPOINT_SCOPE = "dpop:token"


def token_request_jkt(state: IdPState, request: web.Request, client: ClientConfig) -> str | None:
    """The thumbprint of the request's valid proof, or None when it sent none.

    A client registered with ``dpop_bound_access_tokens`` must send one (RFC 9449 §5.2).
    """
    proof = proof_header(request.headers)
    if proof is None:
        if client.dpop_bound_access_tokens:
            raise InvalidDPoPProof(
                f"client {client.client_id!r} must send a DPoP proof (dpop_bound_access_tokens)"
            )
        return None
    settings = state.config.dpop
    now = state.clock.now()
    check = ProofCheck(
        method=request.method,
        url=state.endpoint("token"),
        now=now,
        max_age=settings.proof_max_age,
        nonces=state.dpop_nonces if settings.nonce else None,
    )
    found = check_proof(
        proof, check, lambda jti, until: state.store.remember_jti(TOKEN_ENDPOINT_SCOPE, jti, until, now)
    )
    return found.jkt
