"""check-agent with ``--auth private_key_jwt``: the agent's key pair, and how it signs.

mockidp makes an ES256 key pair for the agent and registers the public half as the client's
inline ``jwks``. The agent gets the private half two ways (use either):

- ``MOCKIDP_CLIENT_KEY``: the private JWK as JSON, with ``kid`` and ``alg`` (``ES256``);
- ``MOCKIDP_CLIENT_KEY_FILE``: the path of the same key as an unencrypted PKCS#8 PEM file.

The checks read each client assertion's header and claims from the IdP journal (which keeps
them in place of the assertion): ``assertion-aud`` (the issuer or the token endpoint, nothing
else: an assertion for another audience can be replayed there, the 2025 audience-injection
attack), ``assertion-jti-single-use`` (a fresh ``jti`` per request: a reused one is a replayable
credential) and ``assertion-lifetime`` (``exp`` at most 300 s after ``iat``: an assertion is
made per request, a long-lived one is a bearer credential for that long). The IdP refuses all
three as well, so the agent's token request fails and these checks say why.
"""

from __future__ import annotations

import json
import os
import secrets
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from joserfc.jwk import ECKey

from ..client_assertion import LEEWAY, MAX_LIFETIME
from ..config import ClientConfig, IdPConfig
from .agent_evidence import Evidence, claim_time, not_applicable, verdict
from .case import Case

#: ``--auth`` values
AUTH_METHODS = ("client_secret", "private_key_jwt")
ASSERTION_CHECKS = ("assertion-aud", "assertion-jti-single-use", "assertion-lifetime")


@dataclass(frozen=True, slots=True)
class AgentKey:
    """The agent's key pair: the private JWK, its PEM file, and the public JWK Set."""

    private_jwk: dict[str, Any]
    pem_path: Path
    jwks: dict[str, Any]

    def env(self) -> dict[str, str]:
        return {
            "MOCKIDP_CLIENT_KEY": json.dumps(self.private_jwk),
            "MOCKIDP_CLIENT_KEY_FILE": str(self.pem_path),
        }


def provision(directory: Path) -> AgentKey:
    """A fresh ES256 key pair; the PEM file is written to ``directory``, readable by its owner only."""
    key = ECKey.generate_key("P-256", private=True)
    kid = f"agent-{secrets.token_hex(4)}"
    private = {**key.as_dict(private=True), "kid": kid, "alg": "ES256", "use": "sig"}
    public = {**key.as_dict(private=False), "kid": kid, "alg": "ES256", "use": "sig"}
    pem = key.private_key.private_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = directory / "agent-key.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return AgentKey(dict(private), path, {"keys": [dict(public)]})


def signed_config(config: IdPConfig, client: ClientConfig, key: AgentKey) -> IdPConfig:
    """``config`` with ``client`` turned into a ``private_key_jwt`` client holding the agent's key."""
    signed = replace(client, client_secret=None, token_endpoint_auth_method="private_key_jwt", jwks=key.jwks)
    clients = [signed if c.client_id == client.client_id else c for c in config.clients]
    return replace(config, clients=tuple(clients))


def _assertions(ev: Evidence) -> list[tuple[float, dict[str, Any]]]:
    """(request time, claims) of every client assertion the agent sent, in order."""
    found = []
    for record in ev.requests:
        if record.client_assertion is not None:
            claims = record.client_assertion.get("claims")
            found.append((record.time, dict(claims) if isinstance(claims, dict) else {}))
    return found


def assertion_aud(ev: Evidence) -> Case:
    name = "assertion-aud"
    sent = _assertions(ev)
    if not sent:
        return not_applicable(name, "the agent sent no client assertion")
    issuer = (ev.issuer or "").rstrip("/")
    accepted = {ev.issuer, f"{issuer}/token"}
    problems = []
    for _, claims in sent:
        aud = claims.get("aud")
        values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not values or any(v not in accepted for v in values):
            problems.append(f"aud {aud!r} is not the issuer {ev.issuer} (or its token endpoint)")
    return verdict(name, sorted(set(problems)), f"{len(sent)} assertions for the IdP only")


def assertion_jti_single_use(ev: Evidence) -> Case:
    name = "assertion-jti-single-use"
    sent = _assertions(ev)
    if not sent:
        return not_applicable(name, "the agent sent no client assertion")
    jtis = [c.get("jti") for _, c in sent]
    problems = ["an assertion without jti"] if any(not isinstance(j, str) or not j for j in jtis) else []
    counts = Counter(j for j in jtis if isinstance(j, str) and j)
    problems += [f"jti {j!r} sent in {n} requests" for j, n in counts.items() if n > 1]
    return verdict(name, problems, f"{len(sent)} assertions, each with its own jti")


def assertion_lifetime(ev: Evidence) -> Case:
    name = "assertion-lifetime"
    sent = _assertions(ev)
    if not sent:
        return not_applicable(name, "the agent sent no client assertion")
    problems = []
    for when, claims in sent:
        exp, iat = claim_time(claims, "exp"), claim_time(claims, "iat")
        if exp is None:
            problems.append("an assertion without exp")
        elif iat is not None and exp - iat > MAX_LIFETIME:
            problems.append(f"exp {exp - iat:.0f} s after iat (at most {MAX_LIFETIME} s)")
        elif iat is None and exp - when > MAX_LIFETIME + LEEWAY:
            problems.append(f"exp {exp - when:.0f} s ahead (at most {MAX_LIFETIME} s)")
    return verdict(name, sorted(set(problems)), f"every assertion lives at most {MAX_LIFETIME} s")
