"""Small building blocks the catalog modules compose their transformations from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .jose import hmac_sign, key_sign
from .model import ClaimEdit, HeaderEdit, MintContext, Signer

Value = Callable[[dict[str, Any], MintContext], Any]


def set_claim(name: str, value: Value) -> ClaimEdit:
    """Replace (or add) claim ``name`` with ``value(claims, ctx)``."""

    def edit(claims: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
        return {**claims, name: value(claims, ctx)}

    return edit


def drop_claim(name: str) -> ClaimEdit:
    def edit(claims: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
        return {k: v for k, v in claims.items() if k != name}

    return edit


def set_header(**values: Any) -> HeaderEdit:
    """Merge fixed header parameters; a value of ``None`` removes the parameter."""

    def edit(header: dict[str, Any], ctx: MintContext) -> dict[str, Any]:
        merged = {**header, **values}
        return {k: v for k, v in merged.items() if v is not None}

    return edit


def no_signature(data: bytes, header: dict[str, Any], ctx: MintContext) -> bytes:
    return b""


def hmac_with(secret: Callable[[MintContext], bytes]) -> Signer:
    """HMAC-SHA256 keyed with ``secret(ctx)``: the key-confusion and weak-secret attacks."""

    def sign(data: bytes, header: dict[str, Any], ctx: MintContext) -> bytes:
        return hmac_sign(data, secret(ctx))

    return sign


def attacker_key(ctx: MintContext, alg: str) -> Any:
    """The attacker's key for ``alg`` on this IdP (never the IdP's own material)."""
    return ctx.idp.attacker.key(alg, avoid=ctx.idp.keys.keys)


def attacker_signature(alg: str | None = None) -> Signer:
    """A valid signature by the attacker key (``alg`` None: the IdP's algorithm)."""

    def sign(data: bytes, header: dict[str, Any], ctx: MintContext) -> bytes:
        chosen = alg or ctx.key.alg
        return key_sign(data, attacker_key(ctx, chosen).key, chosen)

    return sign


def attacker_url(ctx: MintContext, name: str) -> str:
    from .attacker import ATTACKER_PATH

    return f"{ctx.issuer.rstrip('/')}{ATTACKER_PATH}/{name}"
