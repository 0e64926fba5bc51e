"""Custom access-token claims: which names are off limits, and the tiny template language.

A string value may hold ``${client_id}``, ``${sub}``, ``${scope}``, ``${resource}``,
``${now}`` (the issue time, a number) and ``${user.claims.<name>}``; ``$$`` is a literal
``$``. Substitution is a regular expression and a dictionary look-up, never ``eval``.
A string that is exactly one placeholder takes the value itself (so
``${user.claims.roles}`` copies a list); inside longer text a value is written as text
(lists joined by spaces). A user claim that does not exist (or any user claim
in client credentials, which has no user) leaves the claim out when it is the whole value,
and writes nothing inside text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

#: claims the IdP owns (RFC 9068 section 2.2, RFC 7800 ``cnf``, RFC 8693 ``act``): a custom
#: value would forge identity, audience, lifetime or binding, so config and plans refuse them
REGISTERED_CLAIMS = frozenset(
    {"iss", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "sub", "cnf", "act"}
)
VARIABLES = ("client_id", "sub", "scope", "resource", "now")
_TOKEN = re.compile(r"\$\$|\$\{([^}]*)\}")
_USER_CLAIM = re.compile(r"user\.claims\.([^\s{}$]+)")
_MISSING = object()


@dataclass(frozen=True, slots=True)
class TemplateContext:
    """What a template can read: the request and the signed-in user's claims (if any)."""

    client_id: str
    sub: str
    scope: str
    resource: str
    #: the issue time (epoch seconds), e.g. ``auth_time: ${now}`` for a minted token
    now: int = 0
    user_claims: Mapping[str, Any] | None = None

    def lookup(self, name: str) -> Any:
        if name in VARIABLES:
            return getattr(self, name)
        found = _USER_CLAIM.fullmatch(name)
        if found is None or self.user_claims is None:
            return _MISSING
        return self.user_claims.get(found.group(1), _MISSING)


def check_claims(claims: Mapping[str, Any], path: str) -> None:
    """Refuse registered claim names and unknown placeholders (a :class:`ConfigError` at ``path.name``)."""
    for name, value in claims.items():
        if name in REGISTERED_CLAIMS:
            raise ConfigError(
                f"'{name}' is a registered claim the IdP sets itself; it cannot be overridden here "
                "(the defect catalog breaks it on purpose)",
                key_path=f"{path}.{name}",
            )
        for where, placeholder in _placeholders(value, f"{path}.{name}"):
            if placeholder not in VARIABLES and not _USER_CLAIM.fullmatch(placeholder):
                known = ", ".join(f"${{{v}}}" for v in (*VARIABLES, "user.claims.<name>"))
                raise ConfigError(
                    f"unknown placeholder '${{{placeholder}}}' (known: {known})", key_path=where
                )


def _placeholders(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        for match in _TOKEN.finditer(value):
            if match.group(1) is not None:
                yield path, match.group(1)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _placeholders(item, f"{path}[{i}]")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _placeholders(item, f"{path}.{key}")


def render(claims: Mapping[str, Any], context: TemplateContext) -> dict[str, Any]:
    """``claims`` with every placeholder filled in from ``context``."""
    out: dict[str, Any] = {}
    for name, value in claims.items():
        rendered = _render(value, context)
        if rendered is not _MISSING:
            out[name] = rendered
    return out


def _render(value: Any, context: TemplateContext) -> Any:
    if isinstance(value, str):
        whole = _TOKEN.fullmatch(value)
        if whole is not None and whole.group(1) is not None:
            return context.lookup(whole.group(1))
        return _TOKEN.sub(lambda m: _text(m, context), value)
    if isinstance(value, list | tuple):
        items = [_render(v, context) for v in value]
        return [v for v in items if v is not _MISSING]
    if isinstance(value, Mapping):
        return render(value, context)
    return value


def _text(match: re.Match[str], context: TemplateContext) -> str:
    if match.group(1) is None:
        return "$"
    value = context.lookup(match.group(1))
    if value is _MISSING or value is None:
        return ""
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)
