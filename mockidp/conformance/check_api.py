"""``check-api``: send an API every defective token in the catalog and compare its reactions.

For one audience and scope the run sends a valid token (must get 2xx), no token (must get 401
with a Bearer challenge), a valid token in the query and in a form body, per catalog defect a
token broken in exactly that way (must get the catalog's 401 ``invalid_token`` or 403
``insufficient_scope``), and a short-lived token again after it expired. Each case comes to an
outcome: ``passed``, ``accepted`` (the security finding, at the defect's severity),
``refused-differently`` (wrong status, error or challenge: ``should``) or ``crashed`` (5xx,
timeout: ``must``). A refused valid token makes the run inconclusive (exit status 2).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..config import ApiConfig, ClientConfig
from ..defects import NOT_SENT_BY_DEFAULT
from ..errors import InconclusiveRun, ScenarioError, TargetUnreachable
from ..server import ConfigLike, MockIdP
from ..tls import client_env
from .api_cases import AttackerWatch, expired_after_cache, placement_cases
from .api_dpop import DPoPSender, bound_minter, dpop_cases
from .api_jwks import jwks_cases
from .api_send import BEARER_ONLY, BEARER_OR_DPOP, Sender

# re-exported: callers know them as check_api's
from .api_send import ApiTarget as ApiTarget
from .api_send import Verdict as Verdict
from .api_send import judge as judge
from .api_send import send_case as send_case
from .case import Case, Severity
from .processes import host_port, port_open, started
from .report import ApiReport

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


#: defects a run leaves out unless named (``mockidp.defects.NOT_SENT_BY_DEFAULT``)
NOT_BY_DEFAULT = NOT_SENT_BY_DEFAULT


def access_token_catalog(*, everything: bool = False) -> Catalog:
    """The catalog defects that apply to access tokens sent to a resource server.

    Without ``everything``: ``mockidp.defects.CHECK_API_DEFAULTS``, the documented default list.
    """
    from ..defects import CATALOG, CHECK_API_DEFAULTS

    if not everything:
        return {name: CATALOG[name] for name in CHECK_API_DEFAULTS}
    return {name: d for name, d in CATALOG.items() if _applies(getattr(d, "applies_to", ()))}


def selected_catalog(*, tags: Sequence[str] = (), groups: Sequence[str] = ()) -> Catalog:
    """The default catalog narrowed to entries with one of ``tags`` and in one of ``groups``
    (``check-api --tag cve``, ``--group positive``); an empty selector selects everything."""
    chosen = access_token_catalog()
    return {
        name: d
        for name, d in chosen.items()
        if (not tags or set(getattr(d, "tags", ())) & set(tags))
        and (not groups or getattr(d, "group", "") in groups)
    }


def with_delegation(catalog: Catalog, policy: str) -> Catalog:
    """``catalog`` plus the delegation entries an API declaring ``policy`` can be judged on.

    ``none``: the API takes no delegated token (``act-not-allowed``). ``max-depth=N`` (N from 1
    to 3): it takes ``act`` chains of up to N actors and honours ``may_act`` (a chain too deep, a
    ``may_act`` violation, and one delegated token it must accept). A plain API may rightly
    accept ``act``, so none of these is sent unless the policy is declared.
    """
    from ..defects import CATALOG
    from ..defects.catalog import DELEGATION_POLICIES
    from ..defects.delegation import DEEP_CHAIN

    kind, _, depth = policy.partition("=")
    if kind == "none" and not depth:
        names = DELEGATION_POLICIES["none"]
    elif kind == "max-depth" and depth.isdigit() and 1 <= int(depth) < DEEP_CHAIN:
        names = DELEGATION_POLICIES["max-depth"]
    else:
        raise ScenarioError(
            f"--delegation {policy!r}: use 'none' or 'max-depth=N' with N from 1 to {DEEP_CHAIN - 1}"
        )
    return {**catalog, **{name: CATALOG[name] for name in names}}


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


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    """What a run sends besides the catalog."""

    #: send ``token-in-query`` and ``token-in-body``
    placement: bool = True
    #: send ``expired-after-cache`` (waits about 2.5 s)
    expiry_wait: bool = True
    #: send the ``jwks`` rollover sequences (``jwks-new-kid``, ``jwks-removed-key``,
    #: ``jwks-unknown-kid-flood``); off by
    #: default: an API whose JWKS client rate-limits refetches (PyJWKClient's cooldown) rightly
    #: refuses a new kid within seconds of its last fetch, so only an API known to refetch at
    #: once can be judged on them
    jwks: bool = False
    #: where the API documents that it takes tokens besides the header ("query", "body")
    allow_token_in: frozenset[str] = frozenset()
    #: the API requires DPoP (RFC 9449): bind every token, send it with a proof, and send the
    #: DPoP request defects (``mockidp.defects.dpop``)
    dpop: bool = False
    #: the API demands its own DPoP nonce: judge ``dpop-nonce-missing`` even if it never asked
    dpop_nonce: bool = False


DEFAULT_OPTIONS = RunOptions()


def run_cases(
    idp: MockIdP,
    target: ApiTarget,
    catalog: Catalog,
    *,
    strict: bool = False,
    minter: Minter = mint,
    options: RunOptions = DEFAULT_OPTIONS,
) -> ApiReport:
    """Send the valid token, no token, the extra cases and one token per defect.

    The API must already be up. Raises :class:`InconclusiveRun` when it refuses the valid token.
    """
    dpop = DPoPSender() if options.dpop else None
    if dpop is not None:
        bound = bound_minter(idp, dpop.key, CHECK_CLIENT)
        minter = lambda _idp, target_, defects: bound(target_, tuple(defects))  # noqa: E731
    sender = dpop.send if dpop is not None else None
    schemes = BEARER_OR_DPOP if dpop is not None else BEARER_ONLY
    valid_spec = "RFC 9449 §7.1" if dpop is not None else "RFC 6750 §2.1"
    valid = send_case(
        target, "valid-token", minter(idp, target, ()), None, None, "must", valid_spec, sender=sender
    )
    no_token = send_case(
        target, "no-token", None, 401, None, "must", NO_TOKEN_SPEC, cause="no-token", schemes=schemes
    )
    cases = [valid, no_token]
    if valid.status == 0 and no_token.status == 0:
        if all(c.detail.startswith("timeout") for c in cases):
            # it accepts connections but hangs: a failure (exit 1), not an unreachable API;
            # stop here rather than wait out one timeout per defect
            return ApiReport(target=target.url, cases=tuple(cases), strict=strict)
        raise TargetUnreachable(f"{target.url} does not answer: {valid.detail}")
    if valid.result == "crashed":
        return ApiReport(target=target.url, cases=tuple(cases), strict=strict)
    if valid.result != "passed":
        raise InconclusiveRun(inconclusive_message(idp, target, valid))
    if options.placement:
        cases += placement_cases(target, lambda: minter(idp, target, ()), options.allow_token_in)
    watch = AttackerWatch(idp)
    for name, defect in catalog.items():
        if not _meaningful(defect, idp):
            continue
        with keys_kept(idp):
            token = minter(idp, target, (name,))
            status, error, check = defect.expected_status, defect.expected_error, _check(defect)
            mark = watch.mark()
            if status == 200:
                case = _positive_case(target, name, token, defect, check, sender)
                cases.append(watch.judge(case, mark))
                continue
            case = send_case(
                target,
                name,
                token,
                status,
                error,
                defect.severity,
                defect.spec,
                cause=check,
                sender=sender,
                schemes=schemes,
            )
            consequence = getattr(defect, "consequence", "")
            if case.result == "accepted" and consequence:
                case = dataclasses.replace(case, detail=f"accepted with {case.status}: {consequence}")
            cases.append(watch.judge(case, mark))
    if dpop is not None:
        cases += dpop_cases(target, dpop, lambda: minter(idp, target, ()), nonce=options.dpop_nonce)
    if options.jwks:
        cases += jwks_cases(
            idp,
            target,
            lambda: minter(idp, target, ()),
            lambda d: minter(idp, target, d),
            sender=sender,
            schemes=schemes,
        )
    if options.expiry_wait:
        bind = {"cnf": {"jkt": dpop.key.jkt}} if dpop is not None else None
        cases.append(expired_after_cache(idp, target, CHECK_CLIENT, sender=sender, claims=bind))
    return ApiReport(target=target.url, cases=tuple(cases), strict=strict)


NO_TOKEN_SPEC = "RFC 6750 §3.1; RFC 9728 §5.1"


def _positive_case(
    target: ApiTarget, name: str, token: str, defect: DefectLike, check: str, sender: Sender | None = None
) -> Case:
    """A positive control: any 2xx passes; a refusal is ``refused-differently`` at the entry's
    severity ("too strict"), grouped under its check; a 5xx stays ``crashed``."""
    case = send_case(
        target, name, token, None, None, defect.severity, defect.spec, cause=check, sender=sender
    )
    case = dataclasses.replace(case, expected_status=200, expected_error=None)
    if case.result != "failed":
        return case
    consequence = getattr(defect, "consequence", "") or "too strict: breaks interoperability"
    detail = f"refused with {case.got}, a token a correct API accepts: {consequence}"
    return dataclasses.replace(case, outcome="refused-differently", detail=detail)


def _check(defect: DefectLike) -> str:
    return str(getattr(defect, "check", "") or defect.name)


def inconclusive_message(idp: MockIdP, target: ApiTarget, valid: Case) -> str:
    """Why the run stopped, and the settings the API must use to trust this IdP."""
    env = environment(idp, target)
    return "\n".join(
        [
            f"the API refused the valid token ({valid.got}), so no other verdict would mean anything; "
            "the run stopped. Check that the API trusts this IdP:",
            f"  issuer    {env['MOCKIDP_ISSUER']}  (MOCKIDP_ISSUER: `iss` must equal it exactly)",
            f"  audience  {env['MOCKIDP_AUDIENCE']}  (MOCKIDP_AUDIENCE: the token's `aud`)",
            f"  JWKS      {env['MOCKIDP_JWKS_URI']}  (MOCKIDP_JWKS_URI: keys cached from another IdP "
            "do not verify)",
            f"  scope     {target.scope}  (the token carries exactly this: a 403 means the call needs more)",
            "Without --start the IdP's port is random: pass --port N and give the API that issuer.",
        ]
    )


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


def environment(idp: MockIdP, target: ApiTarget) -> dict[str, str]:
    """What a ``--start`` command is told about the IdP it must trust (and, over https, the CA)."""
    return {
        "MOCKIDP_ISSUER": idp.issuer,
        "MOCKIDP_JWKS_URI": idp.jwks_uri,
        "MOCKIDP_AUDIENCE": target.audience,
        **(client_env() if idp.tls else {}),
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
    options: RunOptions = DEFAULT_OPTIONS,
    api_log: str | Path | None = None,
    tls: bool = False,
) -> ApiReport:
    """Start an IdP (and the API, with ``start``), run every case, stop everything.

    ``tls``: the IdP serves https (``mockidp.tls``); a started API gets ``MOCKIDP_CA_FILE`` and
    ``SSL_CERT_FILE`` to trust it. An https ``target`` may use an ``issue_cert`` certificate.

    A started API's output goes to ``api_log`` (default: a temporary file); its last lines are
    added to the report only when it crashed on a case or died.
    """
    host_port(target.url)
    chosen = access_token_catalog() if catalog is None else catalog
    with MockIdP(config, port=port, tls=tls) as idp:
        prepare(idp, target)
        if not start:
            if not port_open(*host_port(target.url), timeout=2.0):
                raise TargetUnreachable(f"nothing accepts connections at {target.url}")
            return run_cases(idp, target, chosen, strict=strict, minter=minter, options=options)
        log = Path(api_log) if api_log else _temporary_log()
        with started(start, environment(idp, target), target.url, start_timeout, log=log) as api:
            try:
                report = run_cases(idp, target, chosen, strict=strict, minter=minter, options=options)
            except TargetUnreachable as exc:
                raise TargetUnreachable(f"{exc}{api.explain_exit()}") from None
            if api.exited() is not None or any(c.result == "crashed" for c in report.cases):
                return dataclasses.replace(report, api_output=tuple(api.tail()), api_log=str(log))
        if not api_log:
            log.unlink(missing_ok=True)  # nothing in it was worth showing
        return report


def _temporary_log() -> Path:
    handle, name = tempfile.mkstemp(prefix="mockidp-api-", suffix=".log")
    os.close(handle)
    return Path(name)


def with_method(target: ApiTarget, method: str) -> ApiTarget:
    return dataclasses.replace(target, method=method.upper())


__all__ = ["ApiTarget", "Catalog", "RunOptions", "access_token_catalog", "check_api"]
