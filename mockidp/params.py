"""Strict parsing of query strings and form bodies (RFC 6749 section 3.1, 3.2).

Parameters without a value count as omitted; a repeated parameter is an ``invalid_request``
unless the spec lets it repeat (``resource``, ``audience``); bytes that are not UTF-8 are an
``invalid_request`` rather than a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from .errors import InvalidRequest

REPEATABLE = frozenset({"resource", "audience"})


@dataclass(frozen=True, slots=True)
class Params:
    """Decoded parameters; ``get`` insists on at most one value."""

    values: Mapping[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        found = self.values.get(name)
        if not found:
            return None
        if len(found) > 1:
            raise InvalidRequest(f"parameter '{name}' must not be repeated")
        return found[0]

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise InvalidRequest(f"missing required parameter '{name}'")
        return value

    def getall(self, name: str) -> list[str]:
        return list(self.values.get(name, []))

    def check_single(self, allowed_repeats: Iterable[str] = REPEATABLE) -> None:
        """Reject any repeated parameter other than the repeatable ones."""
        allowed = set(allowed_repeats)
        for name, found in self.values.items():
            if len(found) > 1 and name not in allowed:
                raise InvalidRequest(f"parameter '{name}' must not be repeated")

    def __contains__(self, name: object) -> bool:
        return name in self.values


def decode(raw: bytes | str) -> Params:
    """Decode an ``application/x-www-form-urlencoded`` string."""
    if not raw:
        return Params()  # no query string: most requests
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        if "%" in text or "+" in text:
            pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
        else:  # nothing escaped: parse_qsl's result without its unquoting
            pairs = [(name, value) for name, _, value in (p.partition("=") for p in text.split("&") if p)]
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("parameters are not valid UTF-8 form encoding") from None
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            raise InvalidRequest("parameters must not contain NUL characters")
        if value == "":
            continue  # RFC 6749 section 3.1: sent without a value = omitted
        values.setdefault(name, []).append(value)
    return Params(values)
