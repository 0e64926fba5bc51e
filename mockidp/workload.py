"""``WorkloadIssuer``: a stand-in for the platform that vouches for a workload (GitHub Actions,
Kubernetes service accounts, a cloud's metadata server, SPIFFE JWT-SVIDs), so tests can mint the
JWTs that workload identity federation (RFC 7523 jwt-bearer grant, MCP SEP-1933) redeems.

    issuer = WorkloadIssuer("https://ci.example")
    idp = MockIdP(trusted_issuers=[issuer.trusted_issuer(audiences=["https://api"], scopes=["read"])], ...)
    jwt = issuer.mint("repo:acme/app:ref:refs/heads/main", audience=idp.issuer)

Each instance has its own key pair; two instances with the same ``issuer`` and ``kid`` stand for
an attacker who knows the key id but not the key.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from .clock import Clock, MockClock
from .keys import SigningKey, generate_key
from .tokens import sign


class WorkloadIssuer:
    """A test issuer of workload JWTs with its own signing key and JWK Set."""

    __test__ = False

    def __init__(
        self,
        issuer: str = "https://workload.mockidp.test",
        *,
        alg: str = "ES256",
        kid: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        """``clock``: the times its JWTs carry (pass ``idp.clock`` to follow a frozen IdP clock)."""
        self.issuer = issuer
        self.clock = clock or MockClock()
        # a fresh key, not one from the shared pool: two issuers must never share key material
        # (the pool hands out 8 keys in turn), or "another key with the same kid" would verify.
        # Cheap for ES256/EdDSA; an RS256 issuer costs a key generation (tens of milliseconds).
        fresh = generate_key(alg)
        params = {"kid": kid or f"workload-{secrets.token_hex(4)}", "alg": alg, "use": "sig"}
        key = type(fresh)(fresh.raw_value, fresh.raw_value, params)  # type: ignore[arg-type]
        self.key = SigningKey(key, alg)

    @property
    def jwks(self) -> dict[str, Any]:
        """The public JWK Set: put it in ``trusted_issuers[].jwks`` or serve it at a ``jwks_uri``."""
        return {"keys": [self.key.public_jwk()]}

    def trusted_issuer(
        self,
        *,
        audiences: Sequence[str] = (),
        scopes: Sequence[str] = (),
        subjects: Sequence[str] = (),
    ) -> dict[str, Any]:
        """A ``trusted_issuers`` entry for this issuer, with its keys inline."""
        return {
            "issuer": self.issuer,
            "kind": "workload",
            "jwks": self.jwks,
            "audiences": list(audiences),
            "scopes": list(scopes),
            "subjects": list(subjects),
        }

    def mint(
        self,
        sub: str,
        *,
        audience: str | Sequence[str],
        lifetime: int = 300,
        now: float | None = None,
        jti: str | None = None,
        typ: str | None = "JWT",
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed workload JWT for ``sub`` (RFC 7523 §3: iss, sub, aud, exp, iat, jti).

        ``claims`` adds or replaces claims (a value of ``None`` removes one), e.g. to break it.
        """
        issued = int(self.clock.now() if now is None else now)
        body: dict[str, Any] = {
            "iss": self.issuer,
            "sub": sub,
            "aud": audience if isinstance(audience, str) else list(audience),
            "iat": issued,
            "exp": issued + lifetime,
            "jti": jti or secrets.token_urlsafe(16),
        }
        for name, value in (claims or {}).items():
            if value is None:
                body.pop(name, None)
            else:
                body[name] = value
        return sign(body, self.key, typ=typ)
