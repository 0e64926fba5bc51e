"""The practices check-agent looks for, each a function of one trial's evidence.

Evidence is what the IdP journal (``idp.requests``, secrets redacted) and the mock APIs' call
records show, plus the agent's exit status. Each check returns one :class:`Case` whose name
is the check's name (``pkce-s256``, ``resource-indicator``, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ..journal import RequestRecord
from ..resources import ApiCall, MockApi
from .processes import Finished
from .report import Case

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


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    flow: str
    expect_exit: str  # "zero" | "nonzero"
    requests: Sequence[RequestRecord]
    calls: Sequence[ApiCall]
    apis: Mapping[str, MockApi]
    finished: Finished
    timeout: float
    #: Retry-After seconds of the fault the trial injected, when it injected one
    retry_after: float | None = None
    rejected_apis: tuple[str, ...] = field(default_factory=tuple)
    #: the agent's client secret: found in any URL parameter, whatever its name, it leaked
    client_secret: str | None = None
    #: the IdP's issuer: an OpenID token names it next to the API (for userinfo); not another API
    issuer: str | None = None

    def at(self, endpoint: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.endpoint == endpoint]

    @property
    def token_requests(self) -> list[RequestRecord]:
        return self.at("token")

    def first(self, endpoint: str) -> float | None:
        for r in self.requests:
            if r.endpoint == endpoint:
                return r.time
        return None


Check = Callable[[Evidence], Case]


def _case(name: str, problems: Sequence[str], ok: str = "") -> Case:
    return Case(name=name, passed=not problems, detail="; ".join(problems) if problems else ok)


def _form(record: RequestRecord, name: str) -> list[str]:
    return list(record.form.get(name, ())) + list(record.query.get(name, ()))


def exit_status(ev: Evidence) -> Case:
    status = ev.finished.status
    if status is None:
        return _case("exit-status", [f"the agent did not finish within {ev.timeout:g} s"])
    wanted_zero = ev.expect_exit == "zero"
    if (status == 0) == wanted_zero:
        return _case("exit-status", [], f"exit status {status}")
    tail = ev.finished.output.strip().splitlines()[-1:] or [""]
    expected = "0" if wanted_zero else "non-zero"
    return _case(
        "exit-status", [f"exit status {status}, expected {expected} (last output: {tail[0][:200]!r})"]
    )


def api_called(ev: Evidence) -> Case:
    ok = [c for c in ev.calls if 200 <= c.status < 300]
    return _case("api-called", [] if ok else ["no API call succeeded"], f"{len(ok)} successful calls")


def no_api_call(name: str) -> Check:
    """The agent stopped: it called no API at all."""

    def check(ev: Evidence) -> Case:
        calls = [f"{c.method} {c.api}" for c in ev.calls]
        return _case(
            name, [f"the agent went on and called {', '.join(calls)}"] if calls else [], "no API called"
        )

    return check


def pkce_s256(ev: Evidence) -> Case:
    problems = []
    authorizations = ev.at("authorize")
    if not authorizations:
        problems.append("no authorization request")
    for r in authorizations:
        method = _form(r, "code_challenge_method")
        if not _form(r, "code_challenge"):
            problems.append("authorization request without code_challenge")
        elif method != ["S256"]:
            problems.append(f"code_challenge_method {method[0] if method else 'absent (plain)'}, not S256")
    for r in ev.token_requests:
        if _form(r, "grant_type") == ["authorization_code"] and not _form(r, "code_verifier"):
            problems.append("code redeemed without code_verifier")
    return _case("pkce-s256", problems)


def state_sent(ev: Evidence) -> Case:
    problems = []
    for r in ev.at("authorize"):
        value = _form(r, "state")
        if not value or len(value[0]) < 8:
            problems.append("authorization request without an unguessable state")
    return _case("state-checked", problems)


def nonce_sent(ev: Evidence) -> Case:
    problems = []
    for r in ev.at("authorize"):
        scopes = " ".join(_form(r, "scope")).split()
        if "openid" in scopes and not _form(r, "nonce"):
            problems.append("OpenID authorization request without nonce")
    return _case("nonce-checked", problems)


def code_not_redeemed(name: str) -> Check:
    """After a tampered authorization response the agent neither redeems the code nor calls an API."""

    def check(ev: Evidence) -> Case:
        problems = []
        if any(_form(r, "grant_type") == ["authorization_code"] for r in ev.token_requests):
            problems.append("the agent redeemed the code from a tampered authorization response")
        if ev.calls:
            problems.append(f"the agent called {ev.calls[0].api}")
        return _case(name, problems, "stopped before redeeming the code")

    return check


def resource_indicator(ev: Evidence) -> Case:
    urls = {api.url for api in ev.apis.values()}
    problems = []
    grants = [r for r in ev.token_requests if _form(r, "grant_type") != []]
    for r in grants + ev.at("authorize"):
        sent = _form(r, "resource")
        what = (
            "authorization request"
            if r.endpoint == "authorize"
            else f"token request ({_form(r, 'grant_type')[0]})"
        )
        if not sent:
            problems.append(f"{what} without resource")
        elif not set(sent) <= urls:
            problems.append(f"{what} with resource {sent} that is no API's URL")
    if not grants:
        problems.append("no token request")
    return _case("resource-indicator", sorted(set(problems)))


def audience_per_api(ev: Evidence) -> Case:
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
    return _case("audience-per-api", sorted(set(problems)))


def least_privilege(ev: Evidence) -> Case:
    needed = {ev.apis[c.api].required_scope(c.method) for c in ev.calls}
    requested: set[str] = set()
    for r in ev.token_requests + ev.at("authorize"):
        requested.update(s for v in _form(r, "scope") for s in v.split())
    granted = {s for c in ev.calls if c.claims for s in str(c.claims.get("scope", "")).split()}
    unused = sorted((requested | granted) - needed - OIDC_SCOPES)
    problems = (
        [f"scopes {' '.join(unused)} were requested or granted but no call needed them"] if unused else []
    )
    asked = ev.token_requests + ev.at("authorize")
    if asked and not granted and not any(_form(r, "scope") for r in asked):
        # without a call to show what was granted, asking for no scope means asking for all
        problems.append("no scope requested: the IdP granted every scope the client may have")
    return _case("least-privilege", problems)


def no_credentials_in_url(ev: Evidence) -> Case:
    """Known credential parameter names, and credential values under any other name."""
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
    return _case("no-credentials-in-url", sorted(set(problems)))


def _holds(value: str, secret: str) -> bool:
    """``secret`` is ``value`` or, when long enough not to match by chance, a part of it."""
    return value == secret or (len(secret) >= 8 and secret in value)


def retry_after_honoured(ev: Evidence) -> Case:
    tokens = ev.token_requests
    failed = next((i for i, r in enumerate(tokens) if r.status in (429, 503)), None)
    if failed is None:
        return _case("retry-after-honoured", ["the token endpoint was never called, so never refused"])
    if failed + 1 >= len(tokens):
        return _case("retry-after-honoured", [f"no new token request after the {tokens[failed].status}"])
    waited = tokens[failed + 1].time - tokens[failed].time
    wanted = ev.retry_after or 0.0
    if waited + TOLERANCE < wanted:
        return _case("retry-after-honoured", [f"retried after {waited:.2f} s; Retry-After said {wanted:g} s"])
    return _case("retry-after-honoured", [], f"retried after {waited:.2f} s")


def reauth_after_401(ev: Evidence) -> Case:
    problems = []
    for name in ev.rejected_apis:
        calls = [c for c in ev.calls if c.api == name]
        refused = next((c for c in calls if c.status == 401 and c.claims is not None), None)
        if refused is None:
            problems.append(f"{name} was never called with a valid token")
            continue
        old = refused.claims.get("jti") if refused.claims else None
        later = [c for c in calls if c.time >= refused.time and c.status == 200 and c.claims]
        if not any(c.claims and c.claims.get("jti") != old for c in later):
            problems.append(f"after the 401 from {name} the agent did not call it again with a new token")
        elif not any(r.time >= refused.time for r in ev.token_requests):
            problems.append(f"no token request after the 401 from {name}")
    return _case("reauth-after-401", problems)


def stops_on_issuer_mismatch(ev: Evidence) -> Case:
    discovered = ev.first("discovery")
    if discovered is None:
        return _case("stops-on-issuer-mismatch", ["the agent never fetched the IdP's metadata"])
    problems = []
    if ev.token_requests or ev.at("authorize"):
        problems.append("the agent used endpoints from metadata whose issuer does not match")
    if ev.calls:
        problems.append(f"the agent called {ev.calls[0].api}")
    return _case("stops-on-issuer-mismatch", problems, "stopped after the metadata")


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
    "stops-on-issuer-mismatch": stops_on_issuer_mismatch,
    # the same names, judged after a trial that must stop the agent
    "state-checked:stopped": code_not_redeemed("state-checked"),
    "authorization-iss-checked": code_not_redeemed("authorization-iss-checked"),
    "nonce-checked:stopped": no_api_call("nonce-checked"),
    "id-token-validated": no_api_call("id-token-validated"),
}
