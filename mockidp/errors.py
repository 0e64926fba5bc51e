"""Every error mockidp raises, in one place.

    MockIdPError
    ├── ConfigError        a configuration value is wrong: file, key path and line
    ├── ScenarioError      a conformance scenario cannot be run
    │   ├── TargetUnreachable   the API under test does not answer
    │   └── InconclusiveRun     the API refused the valid token: no verdict means anything
    ├── ScenarioFailure    a scenario ran but did not come out as its ``expect`` says
    ├── Unreachable        nothing listens where a conformance probe connects
    ├── ClockError         a clock value out of range (also a ValueError)
    ├── ServerBugError     a handler raised unexpectedly (a mockidp bug), re-raised in the test
    ├── FetchError         an outbound fetch (JWKS, metadata document) refused or failed
    ├── AuthorizationPageError  /authorize cannot trust the client or redirect URI: a 400 page
    ├── AuthorizationRedirect   an OAuthError to send back to the client's redirect URI
    ├── LogoutRefused      /end_session cannot trust the logout request: a 400 page
    └── OAuthError         a protocol error, rendered as an RFC 6749 JSON body
        ├── InvalidRequest      invalid_request        400
        │   └── ControlRequestError  a control API request; names the offending key
        ├── Forbidden           access_denied          403 (the control API's origin checks)
        ├── InvalidClient       invalid_client         401
        ├── InvalidGrant        invalid_grant          400
        ├── UnauthorizedClient  unauthorized_client    400
        ├── UnsupportedGrantType unsupported_grant_type 400
        ├── InvalidScope        invalid_scope          400
        ├── InvalidTarget       invalid_target         400 (RFC 8707)
        ├── InvalidClientMetadata invalid_client_metadata 400 (RFC 7591)
        ├── InvalidRedirectUri  invalid_redirect_uri   400 (RFC 7591)
        ├── InvalidToken        invalid_token          401 (RFC 6750)
        ├── InvalidDPoPProof    invalid_dpop_proof     400 (RFC 9449; 401 at a resource)
        ├── UseDPoPNonce        use_dpop_nonce         400 (RFC 9449 §8, §9; 401 at a resource)
        ├── AuthorizationPending authorization_pending 400 (RFC 8628 §3.5; CIBA §11)
        ├── SlowDown            slow_down              400 (RFC 8628 §3.5; CIBA §11)
        ├── ExpiredToken        expired_token          400 (RFC 8628 §3.5; CIBA §11)
        ├── AccessDenied        access_denied          400 (the person said no: RFC 8628, CIBA)
        ├── InvalidAuthorizationDetails invalid_authorization_details 400 (RFC 9396 §5)
        ├── UnknownUserId       unknown_user_id        400 (CIBA §13)
        └── InvalidBindingMessage invalid_binding_message 400 (CIBA §13)

Handlers raise OAuthError; exactly one middleware turns it into HTTP. Every
``error_description`` on the wire (JSON body, redirect, ``WWW-Authenticate``) passes through
:func:`safe_description`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

#: characters RFC 6749 section 5.2 (and RFC 6750 section 3) allow in ``error_description``:
#: %x20-21 / %x23-5B / %x5D-7E, so no quote, no backslash, nothing outside printable ASCII
_NOT_ALLOWED = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


def _escape(match: re.Match[str]) -> str:
    raw = match.group().encode("utf-8", "surrogatepass")
    return "".join(f"%{b:02X}" for b in raw)


def safe_description(text: str) -> str:
    """``text`` fitted to the ``error_description`` character set.

    Descriptions echo request values (a client id, a scope, a path); any character outside
    the set is percent-encoded as UTF-8 (``grün`` -> ``gr%C3%BCn``, ``"`` -> ``%22``), so the
    value stays recognisable and the answer stays valid, also inside a quoted-string.
    """
    return _NOT_ALLOWED.sub(_escape, text)


class MockIdPError(Exception):
    """Base class of everything mockidp raises on purpose."""


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or '' when none is close."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class ConfigError(MockIdPError):
    """A configuration value is wrong; says where, so it can be fixed without guessing."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        key_path: str = "",
        line: int | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.key_path = key_path
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.file or "<config>"
        if self.line is not None:
            where += f":{self.line}"
        key = f" at '{self.key_path}'" if self.key_path else ""
        return f"{where}{key}: {self.message}"


class ScenarioError(MockIdPError):
    """A scenario file or run cannot proceed (the scenario is wrong, not the target)."""


class TargetUnreachable(ScenarioError):
    """Nothing answers at the API's address (exit status 2, not a failed check)."""


class InconclusiveRun(ScenarioError):
    """The API refused the valid token: no other verdict would mean anything (exit status 2)."""


class ScenarioFailure(MockIdPError):
    """A scenario ran but did not come out as its ``expect`` says: a pytest item's failure.

    ``str()`` is the explanation; ``table`` the report's table shown under it.
    """

    def __init__(self, explanation: str, table: str) -> None:
        super().__init__(explanation)
        self.table = table


class Unreachable(MockIdPError):
    """A conformance probe's connection was refused: nothing is listening there."""


class ServerBugError(MockIdPError):
    """The IdP raised an unexpected exception while handling a request (a mockidp bug)."""


class FetchError(MockIdPError):
    """A document mockidp fetched (``mockidp.outbound``) was refused or could not be had.

    The message names the URL and the reason; callers turn it into their protocol's error.
    """


class AuthorizationPageError(MockIdPError):
    """The client or redirect URI is not trustworthy: show a 400 page, never redirect."""


class LogoutRefused(MockIdPError):
    """A logout request the IdP cannot trust: an error page, never a redirect."""


class ClockError(MockIdPError, ValueError):
    """A clock value that is not a finite time between 1970 and the end of year 9999.

    Refused before the clock moves: every token time, expiry and journal entry reads the
    clock, so one infinite ``advance`` would otherwise break every later request.
    """


class OAuthError(MockIdPError):
    """A protocol error with its wire-format code, as RFC 6749 section 5.2 describes."""

    error: str = "invalid_request"
    status: int = 400

    def __init__(
        self,
        description: str,
        *,
        error: str | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        if error is not None:
            self.error = error
        if status is not None:
            self.status = status
        self.headers: dict[str, str] = dict(headers or {})

    def body(self) -> dict[str, str]:
        """The JSON error body (RFC 6749 section 5.2)."""
        return {"error": self.error, "error_description": safe_description(self.description)}


class InvalidRequest(OAuthError):
    error = "invalid_request"


class ControlRequestError(InvalidRequest):
    """A control request that cannot be carried out; names the offending key when there is one."""

    def __init__(self, description: str, *, key_path: str = "") -> None:
        super().__init__(description)
        self.key_path = key_path

    def body(self) -> dict[str, str]:
        body = super().body()
        if self.key_path:
            body["key_path"] = self.key_path
        return body


class Forbidden(OAuthError):
    """The control API refuses a request that is not from loopback or the same origin."""

    error = "access_denied"
    status = 403


class InvalidClient(OAuthError):
    error = "invalid_client"
    status = 401


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class InvalidTarget(OAuthError):
    error = "invalid_target"


class InvalidClientMetadata(OAuthError):
    """RFC 7591 section 3.2.2: a client metadata value is invalid or contradicts another."""

    error = "invalid_client_metadata"


class InvalidRedirectUri(OAuthError):
    """RFC 7591 section 3.2.2: a registered redirect URI is unsafe or malformed."""

    error = "invalid_redirect_uri"


class InvalidDPoPProof(OAuthError):
    """RFC 9449 §5 and §7.1: the DPoP proof is missing, malformed or does not fit the request.

    400 at the token endpoint; a resource server answers 401 with a ``DPoP`` challenge.
    """

    error = "invalid_dpop_proof"


class UseDPoPNonce(OAuthError):
    """RFC 9449 §8 and §9: the proof lacks the server's current nonce; ``nonce`` is the one to use.

    The ``DPoP-Nonce`` response header carries it (400 at the token endpoint, 401 at a resource).
    """

    error = "use_dpop_nonce"

    def __init__(self, description: str, *, nonce: str, status: int | None = None) -> None:
        super().__init__(description, status=status, headers={"DPoP-Nonce": nonce})
        self.nonce = nonce


class InvalidToken(OAuthError):
    """A bearer token presented to a protected endpoint is not valid (RFC 6750 section 3.1)."""

    error = "invalid_token"
    status = 401


class AuthorizationPending(OAuthError):
    """A polled grant (device flow, CIBA) the person has not decided yet: poll again later."""

    error = "authorization_pending"


class SlowDown(OAuthError):
    """Polled faster than ``interval``: the interval grows by 5 seconds for every later poll."""

    error = "slow_down"


class ExpiredToken(OAuthError):
    """The ``device_code`` or ``auth_req_id`` expired: start again."""

    error = "expired_token"


class AccessDenied(OAuthError):
    """The person denied a polled grant (a token-endpoint error, unlike :class:`Forbidden`)."""

    error = "access_denied"


class InvalidAuthorizationDetails(OAuthError):
    """RFC 9396 section 5: ``authorization_details`` is malformed or names an unknown type."""

    error = "invalid_authorization_details"


class UnknownUserId(OAuthError):
    """CIBA section 13: the hint names no user this IdP knows."""

    error = "unknown_user_id"


class InvalidBindingMessage(OAuthError):
    """CIBA section 13: the ``binding_message`` cannot be shown to the person."""

    error = "invalid_binding_message"


class AuthorizationRedirect(MockIdPError):
    """An error to send back to the client's redirect URI."""

    def __init__(self, error: OAuthError, redirect_uri: str, state: str | None) -> None:
        super().__init__(error.description)
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state


__all__ = [
    "AccessDenied",
    "AuthorizationPageError",
    "AuthorizationPending",
    "AuthorizationRedirect",
    "ClockError",
    "ConfigError",
    "ControlRequestError",
    "ExpiredToken",
    "FetchError",
    "Forbidden",
    "InconclusiveRun",
    "InvalidAuthorizationDetails",
    "InvalidBindingMessage",
    "InvalidClient",
    "InvalidClientMetadata",
    "InvalidDPoPProof",
    "InvalidGrant",
    "InvalidRedirectUri",
    "InvalidRequest",
    "InvalidScope",
    "InvalidTarget",
    "InvalidToken",
    "LogoutRefused",
    "MockIdPError",
    "OAuthError",
    "ScenarioError",
    "ScenarioFailure",
    "ServerBugError",
    "SlowDown",
    "TargetUnreachable",
    "UnauthorizedClient",
    "UnknownUserId",
    "Unreachable",
    "UnsupportedGrantType",
    "UseDPoPNonce",
]
