"""Handlers of the control API: parse JSON, call the same library code as ``MockIdP``, answer JSON."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aiohttp import web

from ...clock import MockClock, check_time
from ...config import (
    ApiConfig,
    ClientConfig,
    TokenClaimsConfig,
    TokenDefectsConfig,
    UserConfig,
)
from ...decisions import SELECTORS, decide, expire, polled_requests
from ...defects import resolve_defects
from ...errors import ClockError, ConfigError, ControlRequestError, MockIdPError, OAuthError
from ...faults import Fault
from ...issuance import issue_token
from ...keys import SigningKey
from ...loading import build, to_dict
from ...state import IdPState
from ..keys import STATE
from ..responses import json_response
from ..workers import off_loop

T = TypeVar("T")


def _config_error(exc: ConfigError) -> ControlRequestError:
    return ControlRequestError(str(exc), key_path=exc.key_path)


def _no_constant(name: str) -> Any:
    """Python's json reads NaN and Infinity, which are not JSON (RFC 8259 section 6): an infinite
    clock would break every token the IdP mints, and could not even be answered as JSON."""
    raise ValueError(f"{name} is not a JSON number")


async def _json(request: web.Request) -> Any:
    """The JSON body (an empty body is ``{}``)."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..." bombs
        raise ControlRequestError("the request body must be JSON") from None


async def _object(request: web.Request) -> dict[str, Any]:
    body = await _json(request)
    if not isinstance(body, dict):
        raise ControlRequestError("the request body must be a JSON object")
    return body


def _items(body: Any) -> list[Any]:
    """One object or a list of them, as a list."""
    items = body if isinstance(body, list) else [body]
    if not items:
        raise ControlRequestError("expected an object or a non-empty list of objects")
    return items


def _state(request: web.Request) -> IdPState:
    return request.app[STATE]


def _optional(body: Mapping[str, Any], key: str, *types: type) -> Any:
    value = body.get(key)
    if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
        names = " or ".join("list" if t is list else "object" if t is dict else "string" for t in types)
        raise ControlRequestError(f"'{key}' must be a {names}", key_path=key)
    return value


# --- tokens -----------------------------------------------------------------------------------

MINT_KEYS = frozenset({"client_id", "subject", "audience", "scope", "claims", "defects"})


async def mint_token(request: web.Request) -> web.StreamResponse:
    body = await _object(request)
    unknown = sorted(set(body) - MINT_KEYS)
    if unknown:
        raise ControlRequestError(f"unknown key '{unknown[0]}'", key_path=unknown[0])
    for key in ("audience", "scope", "defects"):
        value = _optional(body, key, str, list) if key != "defects" else _optional(body, key, list)
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise ControlRequestError(f"'{key}' must hold strings only", key_path=key)
    try:
        mint = functools.partial(
            issue_token,
            _state(request),
            client_id=_optional(body, "client_id", str),
            subject=_optional(body, "subject", str),
            audience=body.get("audience"),
            scope=body.get("scope"),
            claims=_optional(body, "claims", dict),
            defects=body.get("defects"),
        )
        token = await off_loop(mint)  # signing on every core, as at the token endpoint
    except ConfigError as exc:
        raise _config_error(exc) from None
    except OAuthError:
        raise  # invalid_target, invalid_scope: the same answer as the token endpoint
    except MockIdPError as exc:
        raise ControlRequestError(str(exc)) from None
    return json_response({"access_token": token, "token_type": "Bearer"}, no_store=True)


# --- faults and misbehaviour ------------------------------------------------------------------


def _fault_json(fault: Fault, remaining: int | None) -> dict[str, Any]:
    return {**fault.to_dict(), "remaining": remaining}


async def list_faults(request: web.Request) -> web.StreamResponse:
    pending = _state(request).faults.pending()
    return json_response({"faults": [_fault_json(f, n) for f, n in pending]})


async def add_faults(request: web.Request) -> web.StreamResponse:
    items = _items(await _json(request))
    faults = [_build_item(Fault, item, f"faults[{i}]") for i, item in enumerate(items)]
    queue = _state(request).faults
    for fault in faults:
        queue.add(fault)
    return json_response({"faults": [_fault_json(f, f.uses) for f in faults]}, status=201)


async def clear_faults(request: web.Request) -> web.StreamResponse:
    _state(request).faults.clear()
    return json_response({"faults": []})


async def get_misbehaviour(request: web.Request) -> web.StreamResponse:
    return json_response(_state(request).misbehaviour.config.to_dict())


async def set_misbehaviour(request: web.Request) -> web.StreamResponse:
    body = await _object(request)
    try:
        config = _state(request).misbehaviour.set(**body)
    except ConfigError as exc:
        raise _config_error(exc) from None
    return json_response(config.to_dict())


async def reset_misbehaviour(request: web.Request) -> web.StreamResponse:
    """Back to the configured switches (all off unless the config's ``misbehaviour`` says so)."""
    state = _state(request)
    state.misbehaviour.load(state.config.misbehaviour)
    return json_response(state.misbehaviour.config.to_dict())


# --- planned token defects -----------------------------------------------------------------------


def _plans_json(state: IdPState) -> dict[str, Any]:
    return {
        "token_defects": [
            {"defects": list(p.defects), "token": p.token, "client_id": p.client_id, "times": p.times}
            for p in state.defect_plan.pending
        ]
    }


async def list_token_defects(request: web.Request) -> web.StreamResponse:
    return json_response(_plans_json(_state(request)))


async def plan_token_defects(request: web.Request) -> web.StreamResponse:
    """Plan defective tokens at the token endpoint; ``times`` defaults to 1 here (null: always)."""
    items = _items(await _json(request))
    plans = []
    for i, item in enumerate(items):
        if isinstance(item, dict) and "times" not in item:
            item = {**item, "times": 1}
        plans.append(_build_item(TokenDefectsConfig, item, f"token_defects[{i}]"))
    state = _state(request)
    for i, plan in enumerate(plans):  # validate every plan before adding any
        try:
            resolve_defects(list(plan.defects), plan.token)
        except MockIdPError as exc:
            raise ControlRequestError(str(exc), key_path=f"token_defects[{i}].defects") from None
    for plan in plans:
        state.defect_plan.add(plan.defects, token=plan.token, client_id=plan.client_id, times=plan.times)
    return json_response(_plans_json(state), status=201)


async def clear_token_defects(request: web.Request) -> web.StreamResponse:
    """Drop every plan, configured ones included, until the next reset."""
    state = _state(request)
    state.defect_plan.clear()
    return json_response(_plans_json(state))


# --- planned token claims ----------------------------------------------------------------------


def _claims_plans_json(state: IdPState) -> dict[str, Any]:
    return {"token_claims": [p.to_dict() for p in state.claims_plan.pending]}


async def list_token_claims(request: web.Request) -> web.StreamResponse:
    return json_response(_claims_plans_json(_state(request)))


async def plan_token_claims(request: web.Request) -> web.StreamResponse:
    """Add claims to the next ``times`` access tokens (default 1; null: every one).

    One object ``{"claims": {...}, "times": N, "client_id": "..."}`` or a list of them; all are
    checked before any is planned, and an error names the key (``claims.iss``, ``[1].times``).
    """
    body = await _json(request)
    single = isinstance(body, dict)
    items = _items(body)
    plans = []
    for i, item in enumerate(items):
        path = "" if single else f"[{i}]"
        if isinstance(item, dict) and "claims" not in item:
            raise ControlRequestError("'claims' is required", key_path=f"{path}.claims".lstrip("."))
        if isinstance(item, dict) and "times" not in item:
            item = {**item, "times": 1}
        plans.append(_build_item(TokenClaimsConfig, item, path))
    state = _state(request)
    for plan in plans:
        state.claims_plan.add(plan.claims, times=plan.times, client_id=plan.client_id)
    return json_response(_claims_plans_json(state), status=201)


async def clear_token_claims(request: web.Request) -> web.StreamResponse:
    """Drop every claims plan, configured ones included, until the next reset."""
    state = _state(request)
    state.claims_plan.clear()
    return json_response(_claims_plans_json(state))


# --- journal and clock --------------------------------------------------------------------------


async def read_journal(request: web.Request) -> web.StreamResponse:
    """The journal, oldest first; the control API's own requests only with ``include_control``."""
    include_control = request.query.get("include_control", "") in ("1", "true")
    records = [
        r.to_dict() for r in _state(request).journal.snapshot() if include_control or r.endpoint != "control"
    ]
    return json_response({"requests": records})


async def clear_journal(request: web.Request) -> web.StreamResponse:
    _state(request).journal.clear()
    return json_response({"requests": []})


def _clock_json(state: IdPState) -> dict[str, Any]:
    return {"now": state.clock.now(), "frozen": state.clock.frozen}


async def get_clock(request: web.Request) -> web.StreamResponse:
    return json_response(_clock_json(_state(request)))


def _number(body: Mapping[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ControlRequestError(f"'{key}' must be a number of seconds", key_path=key)
    if value is None:
        return None
    try:
        return float(value)
    except OverflowError:  # a JSON integer beyond float range
        return math.inf if value > 0 else -math.inf


def _check_clock_move(clock: MockClock, at: float | None, advance: float | None) -> None:
    """Refuse the whole request before the clock moves (a 400 naming the key, not a 500 later)."""
    moves = [("set", at)] if at is not None else []
    if advance:
        moves.append(("advance", (clock.now() if at is None else at) + advance))
    for key, value in moves:
        try:
            check_time(value, f"'{key}'")
        except ClockError as exc:
            raise ControlRequestError(str(exc), key_path=key) from None


async def set_clock(request: web.Request) -> web.StreamResponse:
    """``freeze`` (true/false), then ``set`` (epoch seconds), then ``advance`` (seconds)."""
    body = await _object(request)
    unknown = sorted(set(body) - {"freeze", "set", "advance"})
    if unknown:
        raise ControlRequestError(f"unknown key '{unknown[0]}'", key_path=unknown[0])
    freeze = body.get("freeze")
    if freeze is not None and not isinstance(freeze, bool):
        raise ControlRequestError("'freeze' must be true or false", key_path="freeze")
    at, advance = _number(body, "set"), _number(body, "advance")
    clock = _state(request).clock
    _check_clock_move(clock, at, advance)
    if freeze is False:
        clock.unfreeze()
    if freeze:
        clock.freeze(at)
    elif at is not None:
        clock.set(at)
    if advance:
        clock.advance(advance)
    return json_response(_clock_json(_state(request)))


# --- the person behind the device flow and CIBA ---------------------------------------------

DECISION_KEYS = frozenset({*SELECTORS, "subject"})


async def _selector(request: web.Request, allowed: frozenset[str]) -> dict[str, Any]:
    body = await _object(request)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ControlRequestError(f"unknown key '{unknown[0]}'", key_path=unknown[0])
    for key in body:
        _optional(body, key, str)
    return body


async def list_polled_requests(request: web.Request) -> web.StreamResponse:
    return json_response({"requests": polled_requests(_state(request))})


async def approve_polled_request(request: web.Request) -> web.StreamResponse:
    """Approve a waiting request, as ``subject`` (default: the hinted user, else the first)."""
    body = await _selector(request, DECISION_KEYS)
    subject = body.pop("subject", None)
    try:
        return json_response(decide(_state(request), "approve", body, subject=subject))
    except MockIdPError as exc:
        raise ControlRequestError(str(exc)) from None


async def deny_polled_request(request: web.Request) -> web.StreamResponse:
    body = await _selector(request, frozenset(SELECTORS))
    try:
        return json_response(decide(_state(request), "deny", body))
    except MockIdPError as exc:
        raise ControlRequestError(str(exc)) from None


async def expire_polled_request(request: web.Request) -> web.StreamResponse:
    """Let a request time out now: its next poll answers ``expired_token``."""
    body = await _selector(request, frozenset(SELECTORS))
    try:
        return json_response(expire(_state(request), body))
    except MockIdPError as exc:
        raise ControlRequestError(str(exc)) from None


# --- registrations, keys, reset ---------------------------------------------------------------


def _build_item(cls: type[T], item: Any, path: str) -> T:
    try:
        return build(cls, item, path)
    except ConfigError as exc:
        raise _config_error(exc) from None


def _register(
    request: web.Request,
    items: list[Any],
    cls: type[T],
    section: str,
    add: Callable[[IdPState, T], None],
    check: Callable[[IdPState, T, str], None] | None = None,
) -> web.Response:
    """Build every item (all or nothing, errors naming ``section[i].key``), then register them."""
    state = _state(request)
    made = [_build_item(cls, item, f"{section}[{i}]") for i, item in enumerate(items)]
    if check is not None:
        for i, thing in enumerate(made):
            try:
                check(state, thing, f"{section}[{i}]")
            except ConfigError as exc:
                raise _config_error(exc) from None
    for thing in made:
        add(state, thing)
    return json_response({section: [to_dict(m) for m in made]}, status=201)


def _check_new_client(state: IdPState, client: ClientConfig, path: str) -> None:
    """The config's cross-field checks (secret vs grant types, known audiences...)."""
    state.store.check_client(client, path)


def _add_client(state: IdPState, client: ClientConfig) -> None:
    state.store.add_client(client)


def _add_user(state: IdPState, user: UserConfig) -> None:
    state.store.add_user(user)


def _add_api(state: IdPState, api: ApiConfig) -> None:
    state.store.add_api(api)


async def add_clients(request: web.Request) -> web.StreamResponse:
    items = _items(await _json(request))
    return _register(request, items, ClientConfig, "clients", _add_client, _check_new_client)


async def add_users(request: web.Request) -> web.StreamResponse:
    return _register(request, _items(await _json(request)), UserConfig, "users", _add_user)


async def add_apis(request: web.Request) -> web.StreamResponse:
    return _register(request, _items(await _json(request)), ApiConfig, "apis", _add_api)


async def rotate_keys(request: web.Request) -> web.StreamResponse:
    """A new current signing key; ``keep`` (default 1) previous keys stay published."""
    body = await _object(request)
    keep = body.get("keep", 1)
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        raise ControlRequestError("'keep' must be a non-negative integer", key_path="keep")
    publish_first = body.get("publish_first", False)
    if not isinstance(publish_first, bool):
        raise ControlRequestError("'publish_first' must be true or false", key_path="publish_first")
    state = _state(request)
    key = state.keys.rotate(keep, publish_first=publish_first)
    return _keys_json(state, key)


def _keys_json(state: IdPState, key: SigningKey | None = None) -> web.StreamResponse:
    pending = state.keys.pending
    body: dict[str, Any] = {
        "current": state.keys.current.kid,
        "pending": pending.kid if pending else None,
        "jwks": state.keys.jwks(),
    }
    if key is not None:
        body["kid"] = key.kid
    return json_response(body)


async def _kid(request: web.Request) -> str:
    kid = (await _object(request)).get("kid")
    if not isinstance(kid, str) or not kid:
        raise ControlRequestError("'kid' must be a non-empty string", key_path="kid")
    return kid


async def add_key(request: web.Request) -> web.StreamResponse:
    """Publish a new key that signs nothing until it is activated."""
    state = _state(request)
    return _keys_json(state, state.keys.add())


async def activate_key(request: web.Request) -> web.StreamResponse:
    """Sign with a published key from now on."""
    state = _state(request)
    kid = await _kid(request)
    try:
        key = state.keys.activate(kid)
    except MockIdPError as exc:
        raise ControlRequestError(str(exc), key_path="kid") from None
    return _keys_json(state, key)


async def retire_key(request: web.Request) -> web.StreamResponse:
    """Stop publishing a key (not the current one)."""
    state = _state(request)
    kid = await _kid(request)
    try:
        state.keys.retire(kid)
    except MockIdPError as exc:
        raise ControlRequestError(str(exc), key_path="kid") from None
    return _keys_json(state)


async def reset(request: web.Request) -> web.StreamResponse:
    """Back to the config: registrations, tokens, keys, journal, clock, faults, misbehaviour, plans."""
    _state(request).reset()
    return json_response({"reset": True})
