"""The practices check-agent looks for, each a function of one trial's evidence.

Evidence (agent_evidence.py) is what the IdP journal and the mock APIs' call records show, plus
the agent's exit status and output. Each check returns one :class:`Case` named after the check
(``pkce-s256``, ``resource-indicator``, ...) with an outcome: ``passed``, ``failed``,
``crashed`` (a stop the trial demands came before the point where the agent had to refuse),
or ``not-applicable`` (nothing to look at, such as ``audience-per-api`` without an API call).
Checks judge only the APIs the agent called. Token lifetimes live in agent_lifetimes.py.
"""

from __future__ import annotations

from ..config import DEVICE_GRANT
from ..journal import RequestRecord, redacted
from .agent_assertions import assertion_aud, assertion_jti_single_use, assertion_lifetime
from .agent_evidence import Check, Evidence, crashed, form, not_applicable, refusal, verdict
from .agent_lifetimes import expiry, token_reuse
from .agent_polling import poll_interval
from .case import Case
from .mcp_checks import MCP_CHECKS

__all__ = ["CHECKS", "Check", "Evidence"]

OIDC_SCOPES = frozenset({"openid", "profile", "email", "address", "phone", "offline_access"})
#: parameters that must never travel in a URL (RFC 6750 section 5.3; OAuth 2.1 section 5.1)
URL_SECRETS = (
    "access_token",
    "refresh_token",
    "client_secret",
    "password",
    "client_assertion",
    "code_verifier",
)
TOLERANCE = 0.05
REQUEST_NAMES = {"authorize": "authorization request", "device_authorization": "device authorization request"}


def exit_status(ev: Evidence) -> Case:
    status = ev.finished.status
    if status is None:
        return verdict("exit-status", [f"the agent did not finish within {ev.timeout:g} s"])
    wanted_zero = ev.expect_exit == "zero"
    if (status == 0) == wanted_zero:
        return verdict("exit-status", [], f"exit status {status}")
    expected = "0" if wanted_zero else "non-zero"
    said = f"exit status {status}, expected {expected} (last output: {ev.last_line()!r})"
    return crashed("exit-status", said) if ev.crashed else verdict("exit-status", [said])


def api_called(ev: Evidence) -> Case:
    """Always applicable: an honest trial the agent cannot finish is a failure, whatever the cause."""
    ok = [c for c in ev.calls if 200 <= c.status < 300]
    return verdict("api-called", [] if ok else ["no API call succeeded"], f"{len(ok)} successful calls")


def _code_redeemed(ev: Evidence) -> bool:
    return any(form(r, "grant_type") == ["authorization_code"] and r.status == 200 for r in ev.token_requests)


def _authorized(ev: Evidence) -> bool:
    return any(r.status in (302, 303) for r in ev.at("authorize"))


def _api_called(ev: Evidence) -> bool:
    return any(200 <= c.status < 300 for c in ev.calls)


def no_api_call(name: str) -> Check:
    """After a defective ID token the agent calls no API, having received it (redeemed the code)."""

    def check(ev: Evidence) -> Case:
        calls = [f"{c.method} {c.api}" for c in ev.calls]
        return refusal(
            name,
            ev,
            [f"the agent went on and called {', '.join(calls)}"] if calls else [],
            point="it received the ID token",
            reached=_code_redeemed,
            went_on=_api_called,
            ok="no API called after the ID token",
        )

    return check


def pkce_s256(ev: Evidence) -> Case:
    problems = []
    authorizations = ev.at("authorize")
    if not authorizations:
        return not_applicable("pkce-s256", "no authorization request")
    for r in authorizations:
        method = form(r, "code_challenge_method")
        if not form(r, "code_challenge"):
            problems.append("authorization request without code_challenge")
        elif method != ["S256"]:
            problems.append(f"code_challenge_method {method[0] if method else 'absent (plain)'}, not S256")
    for r in ev.token_requests:
        if form(r, "grant_type") == ["authorization_code"] and not form(r, "code_verifier"):
            problems.append("code redeemed without code_verifier")
    return verdict("pkce-s256", problems)


def state_sent(ev: Evidence) -> Case:
    if not ev.at("authorize"):
        return not_applicable("state-checked", "no authorization request")
    problems = []
    for r in ev.at("authorize"):
        value = form(r, "state")
        if not value or len(value[0]) < 8:
            problems.append("authorization request without an unguessable state")
    return verdict("state-checked", problems)


def nonce_sent(ev: Evidence) -> Case:
    if not ev.at("authorize"):
        return not_applicable("nonce-checked", "no authorization request")
    problems = []
    for r in ev.at("authorize"):
        scopes = " ".join(form(r, "scope")).split()
        if "openid" in scopes and not form(r, "nonce"):
            problems.append("OpenID authorization request without nonce")
    return verdict("nonce-checked", problems)


def code_not_redeemed(name: str) -> Check:
    """After a tampered authorization response the agent neither redeems the code nor calls an API."""

    def check(ev: Evidence) -> Case:
        problems = []
        if any(form(r, "grant_type") == ["authorization_code"] for r in ev.token_requests):
            problems.append("the agent redeemed the code from a tampered authorization response")
        if ev.calls:
            problems.append(f"the agent called {ev.calls[0].api}")
        return refusal(
            name,
            ev,
            problems,
            point="it got the authorization response",
            reached=_authorized,
            went_on=_code_redeemed,
            ok="stopped before redeeming the code",
        )

    return check


def resource_indicator(ev: Evidence) -> Case:
    urls = {api.url for api in ev.apis.values()}
    problems = []
    grants = [r for r in ev.token_requests if form(r, "grant_type") != []]
    # a device code is redeemed for what its device authorization request named (RFC 8707 §2.1)
    named = [r for r in grants if form(r, "grant_type") != [DEVICE_GRANT]]
    for r in named + ev.at("authorize") + ev.at("device_authorization"):
        sent = form(r, "resource")
        what = REQUEST_NAMES.get(r.endpoint) or f"token request ({form(r, 'grant_type')[0]})"
        if not sent:
            problems.append(f"{what} without resource")
        elif not set(sent) <= urls:
            problems.append(f"{what} with resource {sent} that is no API's URL")
    if not grants:
        return not_applicable("resource-indicator", "no token request")
    return verdict("resource-indicator", sorted(set(problems)))


def audience_per_api(ev: Evidence) -> Case:
    if not ev.calls:
        return not_applicable("audience-per-api", "no API was called")
    problems = []
    for call in ev.calls:
        url = ev.apis[call.api].url
        if call.claims is None:
            if call.error == "invalid_token" and call.api not in ev.rejected_apis:
                problems.append(f"{call.api} refused the token (aud {call.token_aud!r})")
            continue
        aud = call.claims.get("aud")
        names = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else [aud]
        if url not in names or any(a not in (url, ev.issuer) for a in names):
            problems.append(f"{call.api} called with a token for {aud!r}, not only {url}")
    return verdict("audience-per-api", sorted(set(problems)))


def asking(ev: Evidence) -> list[RequestRecord]:
    """The requests where an agent says what it wants: token, authorization, device authorization."""
    return ev.token_requests + ev.at("authorize") + ev.at("device_authorization")


def asked_for(ev: Evidence) -> bool:
    return bool(asking(ev))


def least_privilege(ev: Evidence) -> Case:
    if not asked_for(ev):
        return not_applicable("least-privilege", "no token or authorization request")
    needed = {c.needed or ev.apis[c.api].required_scope(c.method) for c in ev.calls}
    requested: set[str] = set()
    for r in asking(ev):
        requested.update(s for v in form(r, "scope") for s in v.split())
    granted = {s for c in ev.calls if c.claims for s in str(c.claims.get("scope", "")).split()}
    unused = sorted((requested | granted) - needed - OIDC_SCOPES)
    problems = (
        [f"scopes {' '.join(unused)} were requested or granted but no call needed them"] if unused else []
    )
    asked = [r for r in asking(ev) if form(r, "grant_type") != [DEVICE_GRANT]]
    if asked and not granted and not any(form(r, "scope") for r in asked):
        # without a call to show what was granted, asking for no scope means asking for all
        problems.append("no scope requested: the IdP granted every scope the client may have")
    return verdict("least-privilege", problems)


def no_credentials_in_url(ev: Evidence) -> Case:
    """Known credential parameter names, and credential values under any other name."""
    if not ev.requests and not ev.calls:
        return not_applicable("no-credentials-in-url", "the agent sent no request")
    problems = [
        f"{name} in the URL of {r.method} {r.path}"
        for r in ev.requests
        for name in URL_SECRETS
        if name in r.query
    ]
    problems += [
        f"the client secret in the URL of {r.method} {r.path} (as {name})"
        for r in ev.requests
        for name, values in r.query.items()
        if ev.client_secret and any(_holds(v, ev.client_secret) for v in values)
    ]
    problems += [
        f"{name} in the URL of {c.method} {c.api}"
        for c in ev.calls
        for name in dict.fromkeys((*(n for n in c.query if n == "access_token"), *c.url_tokens))
    ]
    return verdict("no-credentials-in-url", sorted(set(problems)))


def _holds(value: str, secret: str) -> bool:
    """``secret`` is ``value`` or, when long enough not to match by chance, a part of it."""
    # the journal keeps a credential-named parameter as its marker (mockidp.journal.redacted)
    return value in (secret, redacted(secret)) or (len(secret) >= 8 and secret in value)


def retry_after_honoured(ev: Evidence) -> Case:
    tokens = ev.token_requests
    failed = next((i for i, r in enumerate(tokens) if r.status in (429, 503)), None)
    if failed is None:
        return not_applicable("retry-after-honoured", "the token endpoint was never called, so never refused")
    if failed + 1 >= len(tokens):
        return verdict("retry-after-honoured", [f"no new token request after the {tokens[failed].status}"])
    waited = tokens[failed + 1].time - tokens[failed].time
    wanted = ev.retry_after or 0.0
    if waited + TOLERANCE < wanted:
        return verdict(
            "retry-after-honoured", [f"retried after {waited:.2f} s; Retry-After said {wanted:g} s"]
        )
    return verdict("retry-after-honoured", [], f"retried after {waited:.2f} s")


def reauth_after_401(ev: Evidence) -> Case:
    """Judged on the APIs the agent called: an agent needs not call every API there is."""
    problems = []
    called = [name for name in ev.rejected_apis if any(c.api == name for c in ev.calls)]
    if not called:
        return not_applicable("reauth-after-401", "no API that refuses the first token was called")
    for name in called:
        calls = [c for c in ev.calls if c.api == name]
        refused = next((c for c in calls if c.status == 401 and c.claims is not None), None)
        if refused is None:
            problems.append(f"{name} was called, but never with a valid token")
            continue
        old = refused.claims.get("jti") if refused.claims else None
        later = [c for c in calls if c.time >= refused.time and c.status == 200 and c.claims]
        if not any(c.claims and c.claims.get("jti") != old for c in later):
            problems.append(f"after the 401 from {name} the agent did not call it again with a new token")
        elif not any(r.time >= refused.time for r in ev.token_requests):
            problems.append(f"no token request after the 401 from {name}")
    return verdict("reauth-after-401", problems)


STEP_UP_ERROR = "insufficient_user_authentication"


def step_up_acr(ev: Evidence) -> Case:
    """After an RFC 9470 challenge the agent signs in again asking for the ``acr_values`` named,
    and the API then accepts its new token. A ``should``: an agent that cannot step up is locked
    out of the API, but lets nobody in."""
    refused = [c for c in ev.calls if c.error == STEP_UP_ERROR]
    if not refused:
        return not_applicable("step-up-acr", "no API asked for a stronger sign-in", "should")
    problems = []
    for name in sorted({c.api for c in refused}):
        first = next(c for c in refused if c.api == name)
        rule = ev.apis[name].step_up_for(first.path) if name in ev.apis else None
        wanted = rule.acr if rule is not None else None
        if wanted is None:
            continue
        asked = [
            r
            for r in ev.at("authorize")
            if r.time >= first.time and wanted in " ".join(r.query.get("acr_values", [])).split()
        ]
        if not asked:
            problems.append(
                f"{name} asked for acr {wanted}; the agent did not re-authorize with acr_values={wanted}"
            )
        elif not any(c.api == name and c.status == 200 and c.time >= first.time for c in ev.calls):
            problems.append(
                f"the agent re-authorized for {name}, but never called it again with the new token"
            )
    return verdict("step-up-acr", problems, "re-authorized with the acr the API asked for", "should")


def _discovered(ev: Evidence) -> bool:
    return ev.first("discovery") is not None


def _used_endpoints(ev: Evidence) -> bool:
    return bool(ev.token_requests or ev.at("authorize"))


def stops_on_issuer_mismatch(ev: Evidence) -> Case:
    problems = []
    if _used_endpoints(ev):
        problems.append("the agent used endpoints from metadata whose issuer does not match")
    if ev.calls:
        problems.append(f"the agent called {ev.calls[0].api}")
    return refusal(
        "stops-on-issuer-mismatch",
        ev,
        problems,
        point="it fetched the IdP's metadata",
        reached=_discovered,
        went_on=_used_endpoints,
        ok="stopped after the metadata",
    )


def dpop_bound(ev: Evidence) -> Case:
    """RFC 9449: the APIs took only DPoP-bound tokens with valid proofs; some call got through."""
    bound = [c for c in ev.calls if 200 <= c.status < 300 and isinstance((c.claims or {}).get("cnf"), dict)]
    as_bearer = [
        c for c in ev.calls if c.error == "invalid_token" and isinstance((c.claims or {}).get("cnf"), dict)
    ]
    problems = [] if bound else ["no API call succeeded with a DPoP-bound token and a valid proof"]
    if as_bearer:
        problems.append(f"{len(as_bearer)} calls sent a DPoP-bound token without the DPoP scheme")
    return verdict("dpop-bound", problems, f"{len(bound)} calls with DPoP-bound tokens and proofs")


CHECKS: dict[str, Check] = {
    "exit-status": exit_status,
    "api-called": api_called,
    "pkce-s256": pkce_s256,
    "state-checked": state_sent,
    "nonce-checked": nonce_sent,
    "resource-indicator": resource_indicator,
    "audience-per-api": audience_per_api,
    "least-privilege": least_privilege,
    "no-credentials-in-url": no_credentials_in_url,
    "retry-after-honoured": retry_after_honoured,
    "reauth-after-401": reauth_after_401,
    "step-up-acr": step_up_acr,
    "stops-on-issuer-mismatch": stops_on_issuer_mismatch,
    "token-reuse": token_reuse,
    "expiry": expiry,
    "poll-interval": poll_interval,
    # with --auth private_key_jwt (agent_assertions.py)
    "assertion-aud": assertion_aud,
    "assertion-jti-single-use": assertion_jti_single_use,
    "assertion-lifetime": assertion_lifetime,
    "dpop-bound": dpop_bound,
    # the same names, judged after a trial that must stop the agent
    "state-checked:stopped": code_not_redeemed("state-checked"),
    "authorization-iss-checked": code_not_redeemed("authorization-iss-checked"),
    "nonce-checked:stopped": no_api_call("nonce-checked"),
    "id-token-validated": no_api_call("id-token-validated"),
    # the MCP profile's (mcp_checks.py)
    **MCP_CHECKS,
}
