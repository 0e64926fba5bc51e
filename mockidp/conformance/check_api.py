"""``check-api``: send an API every defective token in the catalog and compare its reactions.

For one audience and scope the run sends a valid token (must get 2xx), no token (must get 401
with a Bearer challenge) and, per catalog defect, a token broken in exactly that way (must get
the catalog's 401 ``invalid_token`` or 403 ``insufficient_scope``). A 5xx or a timeout always
fails, whatever the defect's severity.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..config import ApiConfig, ClientConfig
from ..errors import ScenarioError
from ..server import ConfigLike, MockIdP
from .probe import Answer, Unreachable, send
from .processes import host_port, port_open, started
from .report import ApiReport, Case, Severity

CHECK_CLIENT = "mockidp-check-api"
CHECK_SECRET = "mockidp-check-api-secret"


class DefectLike(Protocol):
    """What check-api reads from a catalog entry (``mockidp.defects.Defect``)."""

    @property
    def name(self) -> str: ...
    @property
    def spec(self) -> str: ...
    @property
    def expected_status(self) -> int: ...
    @property
    def expected_error(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def requires_alg(self) -> str | None: ...


Catalog = Mapping[str, DefectLike]
#: mints a token for the target, broken by the named defects (none: a valid token)
Minter = Callable[[MockIdP, "ApiTarget", Sequence[str]], str]


class TargetUnreachable(ScenarioError):
    """Nothing answers at the API's address (exit status 2, not a failed check)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiTarget:
    url: str
    audience: str
    scope: str
    method: str = "GET"


#: defects a run leaves out unless named: the API is given no channel to notice them
NOT_BY_DEFAULT = {
    "revoked": "a self-contained JWT cannot show revocation; the API would need introspection credentials",
    "acr-too-weak": "only an API that enforces step-up (RFC 9470) can notice it",
    "auth-time-too-old": "only an API that enforces step-up (RFC 9470) with max_age can notice it",
    "roles-not-array": "only an API that authorizes on a roles claim can notice it",
}


def access_token_catalog(*, everything: bool = False) -> Catalog:
    """The catalog defects that apply to access tokens sent to a resource server.

    Without ``everything``, the ones in :data:`NOT_BY_DEFAULT` are left out.
    """
    from ..defects import CATALOG

    return {
        name: d
        for name, d in CATALOG.items()
        if _applies(getattr(d, "applies_to", ())) and (everything or name not in NOT_BY_DEFAULT)
    }


def _applies(applies_to: Any) -> bool:
    kinds = {applies_to} if isinstance(applies_to, str) else set(applies_to or ())
    return not kinds or "access" in kinds


def _meaningful(defect: DefectLike, idp: MockIdP) -> bool:
    """Some defects only exist for one signing algorithm (HS/RS confusion needs an RSA key)."""
    return defect.requires_alg is None or defect.requires_alg == idp.state.keys.alg


def prepare(idp: MockIdP, target: ApiTarget, extra_scopes: Sequence[str] = ()) -> None:
    """Register the API and a confidential client that may get tokens for it with the scope."""
    scopes = tuple(dict.fromkeys(s for s in (*target.scope.split(" "), *extra_scopes) if s))
    existing = idp.apis.get(target.audience)
    defined = existing.scopes if existing else ()
    idp.add_api(
        ApiConfig(
            audience=target.audience,
            scopes=defined + tuple(s for s in scopes if s not in defined),
            # the valid token carries what the config says this API needs (acr, roles...)
            access_token_claims=existing.access_token_claims if existing else {},
        )
    )
    idp.add_client(
        ClientConfig(
            client_id=CHECK_CLIENT,
            client_secret=CHECK_SECRET,
            grant_types=("client_credentials",),
            scopes=scopes,
            audiences=(target.audience,),
        )
    )


def mint(idp: MockIdP, target: ApiTarget, defects: Sequence[str]) -> str:
    kwargs: dict[str, Any] = {"defects": list(defects)} if defects else {}
    return idp.issue_token(client_id=CHECK_CLIENT, audience=target.audience, scope=target.scope, **kwargs)


def judge(answer: Answer, expected_status: int | None, expected_error: str | None) -> tuple[bool, str]:
    """Whether ``answer`` is the expected reaction, and if not, why not in a few words."""
    if answer.status == 0:
        return False, answer.failure
    if answer.status >= 500:
        return False, f"server error {answer.status}: an invalid token must be rejected, not crash the API"
    if expected_status is None:
        ok = 200 <= answer.status < 300
        return ok, "" if ok else f"a valid token was refused with {answer.describe()}"
    if 200 <= answer.status < 300:
        return False, f"accepted with {answer.status}: the API let this token through"
    if answer.status != expected_status:
        return False, f"expected {expected_status}, got {answer.status}"
    if answer.scheme != "bearer":
        return False, "no 'WWW-Authenticate: Bearer' challenge"
    if expected_error is not None and answer.error != expected_error:
        return False, f'challenge lacks error="{expected_error}" (got {answer.error or "none"})'
    return True, ""


def run_cases(
    idp: MockIdP, target: ApiTarget, catalog: Catalog, *, strict: bool = False, minter: Minter = mint
) -> ApiReport:
    """Send the valid token, no token and one token per defect; the API must already be up."""
    cases = [
        send_case(target, "valid-token", minter(idp, target, ()), None, None, "must", "RFC 6750 section 2.1"),
        send_case(target, "no-token", None, 401, None, "must", "RFC 6750 section 3.1; RFC 9728 section 5.1"),
    ]
    if cases[0].status == 0 and cases[1].status == 0:
        if all(c.detail.startswith("timeout") for c in cases):
            # it accepts connections but hangs: a failure (exit 1), not an unreachable API;
            # stop here rather than wait out one timeout per defect
            return ApiReport(target=target.url, cases=tuple(cases), strict=strict)
        raise TargetUnreachable(f"{target.url} does not answer: {cases[0].detail}")
    for name, defect in catalog.items():
        if not _meaningful(defect, idp):
            continue
        with keys_kept(idp):
            token = minter(idp, target, (name,))
            status, error = defect.expected_status, defect.expected_error
            cases.append(send_case(target, name, token, status, error, defect.severity, defect.spec))
    return ApiReport(target=target.url, cases=tuple(cases), strict=strict)


@contextlib.contextmanager
def keys_kept(idp: MockIdP) -> Iterator[None]:
    """Undo a key rotation a defect made (kid-absent-several-keys rotates one in).

    Otherwise every later token is signed by a kid an API that caches the JWKS has not
    fetched, and is refused for that reason instead of the defect under test: a false pass
    for the rest of the run.
    """
    pristine = idp.state.keys.keys == (idp.state.keys.current,)
    try:
        yield
    finally:
        if pristine and len(idp.state.keys.keys) > 1:
            idp.state.keys.reset()


def send_case(
    target: ApiTarget,
    name: str,
    token: str | None,
    status: int | None,
    error: str | None,
    severity: Severity,
    spec: str,
) -> Case:
    try:
        answer = send(target.url, target.method, token)
    except Unreachable as exc:
        raise TargetUnreachable(str(exc)) from None
    passed, detail = judge(answer, status, error)
    return Case(
        name=name,
        passed=passed,
        detail=detail,
        severity=severity,
        expected_status=status,
        expected_error=error,
        status=answer.status,
        got=answer.describe() if answer.status else answer.failure,
        spec=spec,
        broken=answer.status == 0 or answer.status >= 500,
    )


def environment(idp: MockIdP, target: ApiTarget) -> dict[str, str]:
    """What a ``--start`` command is told about the IdP it must trust."""
    return {
        "MOCKIDP_ISSUER": idp.issuer,
        "MOCKIDP_JWKS_URI": idp.jwks_uri,
        "MOCKIDP_AUDIENCE": target.audience,
    }


def check_api(
    target: ApiTarget,
    *,
    config: ConfigLike = None,
    port: int = 0,
    start: str | None = None,
    strict: bool = False,
    catalog: Catalog | None = None,
    minter: Minter = mint,
    start_timeout: float = 30.0,
) -> ApiReport:
    """Start an IdP (and the API, with ``start``), run every case, stop everything."""
    host_port(target.url)
    chosen = access_token_catalog() if catalog is None else catalog
    with MockIdP(config, port=port) as idp:
        prepare(idp, target)
        running = (
            started(start, environment(idp, target), target.url, start_timeout)
            if start
            else contextlib.nullcontext()
        )
        with running:
            if not port_open(*host_port(target.url), timeout=2.0):
                raise TargetUnreachable(f"nothing accepts connections at {target.url}")
            return run_cases(idp, target, chosen, strict=strict, minter=minter)


def with_method(target: ApiTarget, method: str) -> ApiTarget:
    return dataclasses.replace(target, method=method.upper())
