"""The pipeline that turns claims plus named defects into a (deliberately broken) token."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import MockIdPError, did_you_mean
from .jose import compact, dumps, key_sign, signing_input
from .model import Defect, MintContext, TokenKind


@dataclass(slots=True)
class Minted:
    """A minted token, its final claims, and what must happen once the IdP remembers it."""

    token: str
    claims: dict[str, Any]
    context: MintContext
    defects: tuple[Defect, ...] = ()
    _done: bool = field(default=False, repr=False)

    def issued(self) -> None:
        """Run the post-issue hooks (e.g. revoke); call after ``store.remember``."""
        if self._done:
            return
        self._done = True
        for defect in self.defects:
            if defect.issued is not None:
                defect.issued(self.context, self.claims)


def resolve(catalog: Mapping[str, Defect], names: Sequence[str], kind: TokenKind) -> tuple[Defect, ...]:
    """The named defects, checked to exist, to apply to ``kind`` tokens and to combine."""
    if isinstance(names, str):
        raise MockIdPError(f"defects must be a list of names, not the string {names!r}")
    chosen: list[Defect] = []
    owners: dict[str, str] = {}
    for name in names:
        defect = catalog.get(name)
        if defect is None:
            guess = did_you_mean(str(name), catalog)
            raise MockIdPError(f"unknown defect {name!r}{guess}; `mockidp defects` lists them")
        if defect in chosen:
            continue
        if kind not in defect.applies_to:
            raise MockIdPError(f"defect {name!r} does not apply to {kind} tokens")
        for item in sorted(defect.conflicts()):
            if item in owners:
                raise MockIdPError(
                    f"defects {owners[item]!r} and {name!r} cannot be combined: both change {item}"
                )
            owners[item] = name
        chosen.append(defect)
    return tuple(chosen)


def _default_sign(data: bytes, header: dict[str, Any], ctx: MintContext) -> bytes:
    return key_sign(data, ctx.key.key, ctx.key.alg)


def mint(
    ctx: MintContext, claims: Mapping[str, Any], *, typ: str | None, defects: Sequence[Defect]
) -> Minted:
    """Sign ``claims`` for ``ctx`` with every defect applied in pipeline order."""
    for defect in defects:
        if defect.prepare is not None:
            defect.prepare(ctx)
    header: dict[str, Any] = {"alg": ctx.key.alg, "kid": ctx.key.kid}
    if typ is not None:
        header["typ"] = typ
    body = dict(claims)
    for defect in defects:
        if defect.claims is not None:
            body = defect.claims(body, ctx)
        if defect.header is not None:
            header = defect.header(header, ctx)
    encode = _stage(defects, "encode") or (lambda h, c, x: (dumps(h), dumps(c)))
    signing = signing_input(*encode(header, body, ctx))
    sign = _stage(defects, "sign") or _default_sign
    token = compact(signing, sign(signing, header, ctx))
    for defect in defects:
        if defect.rewrite is not None:
            token = defect.rewrite(token, ctx)
    return Minted(token, body, ctx, tuple(defects))


def _stage(defects: Sequence[Defect], name: str) -> Callable[..., Any] | None:
    for defect in defects:
        stage: Callable[..., Any] | None = getattr(defect, name)
        if stage is not None:
            return stage
    return None
