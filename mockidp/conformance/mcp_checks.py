"""The practices ``check-agent --profile mcp`` looks for: what an MCP client must do on its own.

An MCP client learns everything from the server's 401: where the RFC 9728 metadata is, which
authorization server to trust, which scope to ask for. These checks read the same evidence as
the others (agent_evidence.py) plus what only an MCP trial leaves: the metadata requests on the
APIs' host, the clients the agent registered, and the journal of the second authorization
server in the migration trial. Severity follows consequence, as everywhere: ``must`` when the
slip can let a token or a credential reach someone it was not meant for, ``should`` when it
only locks the agent out or wastes a sign-in.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..journal import RequestRecord
from .agent_evidence import Check, Evidence, form, not_applicable, refusal, verdict
from .case import Case

ROOT_PRM = "/.well-known/oauth-protected-resource"
ROOT_AS_METADATA = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")
OFFLINE = "offline_access"
#: the official suite's limit: at most this many authorization requests while a 403 never ends
RETRY_LIMIT = 3


def scopes(record: RequestRecord) -> list[str]:
    return [s for v in form(record, "scope") for s in v.split()]


def _tool_calls(ev: Evidence) -> list[str]:
    return [c.api for c in ev.calls if c.rpc == "tools/call" and c.status == 200 and c.error is None]


def tool_called(ev: Evidence) -> Case:
    """The MCP form of ``api-called``: an honest trial the agent cannot finish is a failure."""
    done = _tool_calls(ev)
    return verdict("tool-called", [] if done else ["no tools/call succeeded"], f"{len(done)} tool calls")


def metadata_discovery(ev: Evidence) -> Case:
    """Both metadata documents found where they are, in the order RFC 9728 and RFC 8414 give."""
    name = "metadata-discovery"
    if ev.mcp is None:
        return not_applicable(name, "not an MCP trial", "should")
    problems = []
    looked = [m.path for m in ev.metadata_requests]
    if not any(m.status == 200 for m in ev.metadata_requests):
        problems.append(f"never found the protected-resource metadata (asked for: {looked or 'nothing'})")
    elif not any(r.endpoint == "discovery" and r.status == 200 for r in ev.requests):
        paths = [r.path for r in ev.requests if ".well-known" in r.path]
        problems.append(f"never found the authorization server metadata (asked for: {paths or 'nothing'})")
    if ev.mcp.metadata_location == "path" and ROOT_PRM in looked:
        problems.append(
            f"asked for {ROOT_PRM} though the path-based metadata exists (RFC 9728 section 3.1, "
            "MCP: path-based first)"
        )
    issuer_path = urlsplit(ev.issuer or "").path
    if issuer_path:
        at_root = sorted({r.path for r in ev.requests if r.path in ROOT_AS_METADATA})
        if at_root:
            problems.append(
                f"asked for {', '.join(at_root)} though the issuer has the path {issuer_path} "
                "(RFC 8414 section 3.1: the path goes after the well-known part)"
            )
    return verdict(name, problems, f"found both documents ({len(looked)} metadata requests)", "should")


def _code_redeemed(ev: Evidence) -> bool:
    return any(form(r, "grant_type") == ["authorization_code"] and r.status == 200 for r in ev.token_requests)


def _authorized(ev: Evidence) -> bool:
    return any(r.status in (302, 303) for r in ev.at("authorize"))


def _admitted(ev: Evidence) -> list[str]:
    return [f"{c.rpc or c.method} {c.api}" for c in ev.calls if c.claims is not None]


def iss_checked(ev: Evidence) -> Case:
    """RFC 9207 section 2.4: a wrong, missing-but-promised or merely similar ``iss`` stops the
    client before it redeems the code (mix-up defence)."""
    problems = []
    if any(form(r, "grant_type") == ["authorization_code"] for r in ev.token_requests):
        problems.append("the agent redeemed the code of an authorization response with a bad iss")
    if _admitted(ev):
        problems.append(f"the agent went on and called {_admitted(ev)[0]} with a token")
    return refusal(
        "iss-checked",
        ev,
        problems,
        point="it got the authorization response",
        reached=_authorized,
        went_on=_code_redeemed,
        ok="stopped before redeeming the code",
    )


def _used_authorization_server(ev: Evidence) -> bool:
    return bool(ev.at("register") or ev.at("authorize") or ev.token_requests)


def _used(ev: Evidence) -> list[str]:
    return sorted({r.endpoint for r in ev.requests if r.endpoint in ("register", "authorize", "token")})


def metadata_issuer_checked(ev: Evidence) -> Case:
    """RFC 8414 section 3.3: metadata naming another issuer than the one asked is never used."""
    used = _used(ev)
    problems = [f"the agent used {', '.join(used)} from metadata whose issuer does not match"] if used else []
    return refusal(
        "metadata-issuer-checked",
        ev,
        problems,
        point="it fetched the authorization server metadata",
        reached=lambda e: any(r.endpoint == "discovery" and r.status == 200 for r in e.requests),
        went_on=_used_authorization_server,
        ok="stopped after the metadata",
    )


def resource_checked(ev: Evidence) -> Case:
    """RFC 9728 section 3.3 and RFC 8707: metadata for another resource is not this server's; a
    token asked for on its word would be for the wrong audience."""
    used = _used(ev)
    problems = (
        [f"the agent went on to {', '.join(used)} for a resource that is not the server's"] if used else []
    )
    return refusal(
        "resource-checked",
        ev,
        problems,
        point="it fetched the protected-resource metadata",
        reached=lambda e: any(m.status == 200 for m in e.metadata_requests),
        went_on=_used_authorization_server,
        ok="stopped after the protected-resource metadata",
    )


def scope_selection(ev: Evidence) -> Case:
    """MCP scope selection: the challenge's ``scope``, else the metadata's ``scopes_supported``,
    else none. Asking for more than the challenge named is a wider token than needed (must);
    asking for less or other only costs a sign-in (should)."""
    name = "scope-selection"
    first = next(iter(ev.at("authorize")), None)
    if first is None or ev.mcp is None:
        return not_applicable(name, "no authorization request", "should")
    api = next(iter(ev.apis.values()))
    asked = [s for s in scopes(first) if s != OFFLINE]  # SEP-2207 adds it when the AS offers it
    if ev.mcp.scope_in_challenge:
        wanted, source = [api.scopes[0]], "the WWW-Authenticate scope"
    elif ev.mcp.scopes_supported:
        wanted, source = list(api.scopes), "the metadata's scopes_supported"
    else:
        wanted, source = [], "nothing (no challenge scope, no scopes_supported): scope omitted"
    extra, missing = sorted(set(asked) - set(wanted)), sorted(set(wanted) - set(asked))
    said = f"asked for {' '.join(asked) or 'no scope'}; expected {source}"
    if extra and ev.mcp.scope_in_challenge:
        return verdict(name, [f"{said}: {' '.join(extra)} more than the server asked for"], severity="must")
    if extra or missing:
        return verdict(name, [f"{said} ({' '.join(wanted) or 'none'})"], severity="should")
    return verdict(name, [], f"asked for {' '.join(asked) or 'no scope'}, from {source}", "should")


def _refused_for_scope(ev: Evidence) -> list[int]:
    return [i for i, c in enumerate(ev.calls) if c.status == 403 and c.error == "insufficient_scope"]


def scope_step_up(ev: Evidence) -> Case:
    """On 403 ``insufficient_scope`` the client re-authorizes for the named scope, keeping what
    it asked for before (SEP-2350), and calls the tool again."""
    name = "scope-step-up"
    refused = _refused_for_scope(ev)
    if not refused:
        return not_applicable(name, "no call was refused for its scope", "should")
    first = ev.calls[refused[0]]
    wanted = first.needed
    before = [r for r in ev.at("authorize") if r.time < first.time]
    after = [r for r in ev.at("authorize") if r.time >= first.time]
    problems = []
    asked = next((r for r in after if wanted in scopes(r)), None)
    if not after:
        problems.append(f"no new authorization after the 403 that asked for {wanted}")
    elif asked is None:
        problems.append(f"re-authorized without {wanted}, the scope the 403 named")
    else:
        dropped = sorted(set(scopes(before[0])) - set(scopes(asked))) if before else []
        if dropped:
            problems.append(f"the new authorization dropped {' '.join(dropped)} asked for before (SEP-2350)")
        if not any(c.rpc == "tools/call" and c.status == 200 and c.time > first.time for c in ev.calls):
            problems.append("re-authorized, but never called the tool again with the new token")
    return verdict(name, problems, f"re-authorized for {wanted} and called the tool again", "should")


def scope_retry_limit(ev: Evidence) -> Case:
    """A 403 that no new token cures must not loop the client through sign-ins."""
    name = "scope-retry-limit"
    if not _refused_for_scope(ev):
        return not_applicable(name, "no call was refused for its scope", "should")
    attempts = len(ev.at("authorize"))
    if ev.finished.status is None:
        return verdict(
            name, [f"still retrying after {ev.timeout:g} s ({attempts} authorizations)"], "", "should"
        )
    problems = (
        [f"{attempts} authorization requests; at most {RETRY_LIMIT} expected"]
        if attempts > RETRY_LIMIT
        else []
    )
    return verdict(name, problems, f"gave up after {attempts} authorization requests", "should")


def offline_access_requested(ev: Evidence) -> Case:
    """SEP-2207: the AS offers ``offline_access``, so the client registers for refresh tokens
    and asks for it, instead of sending its user through a sign-in each time a token expires."""
    name = "offline-access-requested"
    if not ev.at("authorize"):
        return not_applicable(name, "no authorization request", "should")
    problems = []
    grants = {g for c in ev.registered for g in c.allowed_grant_types}
    if ev.registered and "refresh_token" not in grants:
        problems.append("registered without the refresh_token grant")
    if not any(OFFLINE in scopes(r) for r in ev.at("authorize")):
        problems.append("never asked for offline_access")
    return verdict(name, problems, "registered for refresh tokens and asked for offline_access", "should")


def offline_access_not_requested(ev: Evidence) -> Case:
    """SEP-2207: a scope the AS does not list is not asked for; a strict AS answers
    ``invalid_scope`` and the user's sign-in is lost (should)."""
    name = "offline-access-not-requested"
    if not ev.at("authorize"):
        return not_applicable(name, "no authorization request", "should")
    asked = [r for r in ev.at("authorize") if OFFLINE in scopes(r)]
    problems = (
        ["asked for offline_access, which the metadata's scopes_supported does not list"] if asked else []
    )
    return verdict(name, problems, "did not ask for offline_access", "should")


def reregister_on_as_change(ev: Evidence) -> Case:
    """SEP-2352: when the metadata names a new authorization server, the client registers there
    and never presents the old server's client_id to it (another client's identity there)."""
    name = "reregister-on-as-change"
    if not ev.successor_requests:
        if not _admitted(ev):
            return not_applicable(name, "no call was admitted, so the server never moved")
        return verdict(name, ["the agent never went to the new authorization server"], severity="should")
    old = {c.client_id for c in ev.registered}
    presented = sorted(
        {
            cid
            for r in ev.successor_requests
            if r.endpoint in ("authorize", "token")
            for cid in form(r, "client_id")
            if cid in old
        }
    )
    problems = [f"presented the old server's client_id {presented[0]!r} to the new one"] if presented else []
    if not any(r.endpoint == "register" and r.status == 201 for r in ev.successor_requests):
        problems.append("did not register with the new authorization server")
    return verdict(name, problems, "registered anew with the new authorization server")


def cimd_used(ev: Evidence) -> Case:
    """MCP authorization 2025-11-25, "Client ID Metadata Documents": a client that has a
    document uses its URL as ``client_id`` when the IdP supports them, instead of registering
    (draft-ietf-oauth-client-id-metadata-document). Registration still works: a should."""
    name = "cimd-used"
    url = ev.client_metadata_url
    if url is None:
        return not_applicable(name, "the agent was given no client metadata document", "should")
    registrations, signins = ev.at("register"), ev.at("authorize")
    if not registrations and not signins:
        return not_applicable(name, "the agent neither registered nor asked for authorization", "should")
    named = [form(r, "client_id") for r in (*signins, *ev.token_requests)]
    others = sorted({cid for ids in named for cid in ids} - {url})
    used = f" and signed in as {', '.join(others)}" if others else ""
    problems = []
    if registrations:
        problems.append(
            f"registered dynamically ({len(registrations)} POST /register){used} though it was given "
            f"a client ID metadata document ({url}) and the IdP supports them"
        )
    elif others:
        problems.append(f"signed in as {', '.join(others)}, not as its document URL {url}")
    elif not all(named):
        problems.append(f"an authorize or token request named no client_id, not {url}")
    elif not ev.document_fetches:
        problems.append("the IdP never fetched the document: no request used it")
    return verdict(name, problems, f"signed in as {url}, no registration", "should")


MCP_CHECKS: dict[str, Check] = {
    "tool-called": tool_called,
    "metadata-discovery": metadata_discovery,
    "iss-checked": iss_checked,
    "metadata-issuer-checked": metadata_issuer_checked,
    "resource-checked": resource_checked,
    "scope-selection": scope_selection,
    "scope-step-up": scope_step_up,
    "scope-retry-limit": scope_retry_limit,
    "offline-access-requested": offline_access_requested,
    "offline-access-not-requested": offline_access_not_requested,
    "reregister-on-as-change": reregister_on_as_change,
    "cimd-used": cimd_used,
}
