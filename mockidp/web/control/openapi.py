"""The OpenAPI 3.1 document of the control API, served at ``{issuer}/_mockidp/openapi.json``.

Built from the same lists the code uses (fault kinds, misbehaviour modes), and the bodies that
are config models (clients, users, APIs, misbehaviour, token-defect and token-claims plans) are
generated from their dataclasses (:func:`mockidp.loading.json_schema`, descriptions from the
``#:`` comments), so it cannot drift on those; a test validates it and calls every path it
documents.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...config import ApiConfig, ClientConfig, TokenClaimsConfig, TokenDefectsConfig, UserConfig
from ...faults import ANY_ENDPOINT, ENDPOINTS, FAULT_KINDS, MAX_DELAY
from ...loading import json_schema
from ...misbehaviour import MisbehaviourConfig
from ..keys import STATE
from ..responses import json_response

Schema = dict[str, Any]

STRINGS: Schema = {"type": "array", "items": {"type": "string"}}
STRING_OR_LIST: Schema = {"oneOf": [{"type": "string"}, STRINGS]}


COMPONENTS = "#/components/schemas/"


def _ref(name: str) -> Schema:
    return {"$ref": f"{COMPONENTS}{name}"}


def _model(cls: type, defs: dict[str, Schema], **overlay: Schema) -> Schema:
    """The keys the control API builds ``cls`` from, with ``overlay`` merged into the properties
    where the control API says more (its own defaults, bounds)."""
    schema = json_schema(cls, defs, ref=COMPONENTS, comment_docs=True)
    for name, extra in overlay.items():
        schema["properties"][name] = {**schema["properties"][name], **extra}
    return schema


def _config_schemas() -> dict[str, Schema]:
    """The request bodies that are config models, named as the paths refer to them."""
    defs: dict[str, Schema] = {}
    times: Schema = {"minimum": 1, "default": 1, "description": "null: every token"}
    return {
        "Client": _model(ClientConfig, defs),
        "User": _model(UserConfig, defs),
        "Api": _model(ApiConfig, defs),
        "Misbehaviour": _model(MisbehaviourConfig, defs),
        "TokenDefectPlan": _model(
            TokenDefectsConfig,
            defs,
            defects={"description": "defect catalog names (`mockidp defects --json`)"},
            times=times,
        ),
        "TokenClaimsPlan": _model(
            TokenClaimsConfig,
            defs,
            claims={
                "minProperties": 1,
                "description": "custom claims; registered ones (iss, sub, aud, exp, iat, nbf, jti, "
                "client_id, scope, cnf, act) are refused",
            },
            times=times,
        ),
        **defs,
    }


def _obj(properties: dict[str, Schema], required: tuple[str, ...] = (), *, extra: bool = False) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": extra}
    if required:
        schema["required"] = list(required)
    return schema


def _one_or_many(name: str) -> Schema:
    return {"oneOf": [_ref(name), {"type": "array", "items": _ref(name), "minItems": 1}]}


def _fault_schema() -> Schema:
    return _obj(
        {
            "endpoint": {"enum": [*ENDPOINTS, ANY_ENDPOINT], "description": "endpoint name, or * for all"},
            "kind": {"enum": list(FAULT_KINDS)},
            "status": {"type": ["integer", "null"], "minimum": 100, "maximum": 599},
            "body": {"description": "a string sent as is, or JSON data"},
            "retry_after": {"type": ["integer", "null"], "minimum": 0},
            "delay": {"type": ["number", "null"], "minimum": 0, "maximum": MAX_DELAY},
            "times": {
                "oneOf": [{"type": "integer", "minimum": 1}, {"type": "null"}, {"const": "always"}],
                "default": 1,
            },
        },
        ("endpoint", "kind"),
    )


def _journal_and_clock_schemas() -> dict[str, Schema]:
    return {
        "RequestRecord": _obj(
            {
                "method": {"type": "string"},
                "path": {"type": "string"},
                "endpoint": {"type": "string"},
                "query": {"type": "object", "additionalProperties": STRINGS},
                "form": {"type": "object", "additionalProperties": STRINGS},
                "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                "client_id": {"type": ["string", "null"]},
                "status": {"type": "integer", "description": "599: connection dropped"},
                "time": {"type": "number"},
                "token_claims": {
                    "type": ["object", "null"],
                    "description": "planned claims the issued access token carries",
                },
                "client_assertion": {
                    "type": ["object", "null"],
                    "description": "a private_key_jwt assertion's header and claims (unverified)",
                },
            }
        ),
        "Journal": _obj({"requests": {"type": "array", "items": _ref("RequestRecord")}}),
        "Clock": _obj({"now": {"type": "number"}, "frozen": {"type": "boolean"}}),
        "ClockUpdate": _obj(
            {"freeze": {"type": "boolean"}, "set": {"type": "number"}, "advance": {"type": "number"}}
        ),
    }


def _schemas() -> dict[str, Schema]:
    nullable_int: Schema = {"type": ["integer", "null"]}
    fault = _fault_schema()
    return {
        "Fault": fault,
        "QueuedFault": _obj(
            {**fault["properties"], "remaining": {**nullable_int, "description": "uses left (null: always)"}},
            ("endpoint", "kind", "remaining"),
        ),
        "Error": _obj(
            {
                "error": {"type": "string"},
                "error_description": {"type": "string"},
                "key_path": {"type": "string"},
            },
            ("error",),
        ),
        "MintRequest": _obj(
            {
                "client_id": {"type": "string"},
                "subject": {"type": "string"},
                "audience": STRING_OR_LIST,
                "scope": STRING_OR_LIST,
                "claims": {"type": "object"},
                "defects": STRINGS,
            }
        ),
        "MintResponse": _obj({"access_token": {"type": "string"}, "token_type": {"type": "string"}}),
        "Faults": _obj({"faults": {"type": "array", "items": _ref("QueuedFault")}}),
        "TokenDefectPlans": _obj({"token_defects": {"type": "array", "items": _ref("TokenDefectPlan")}}),
        "TokenClaimsPlans": _obj({"token_claims": {"type": "array", "items": _ref("TokenClaimsPlan")}}),
        "RotateKeys": _obj(
            {
                "keep": {"type": "integer", "minimum": 0, "default": 1},
                "publish_first": {"type": "boolean", "default": False},
            }
        ),
        "KeyId": _obj({"kid": {"type": "string", "minLength": 1}}),
        "RotatedKeys": _obj(
            {
                "kid": {"type": "string"},
                "current": {"type": "string"},
                "pending": {"type": ["string", "null"]},
                "jwks": {"type": "object"},
            }
        ),
        **_journal_and_clock_schemas(),
        **_config_schemas(),
    }


def _json_body(schema: Schema, *, required: bool = True) -> Schema:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _answer(description: str, schema: Schema, status: str = "200") -> dict[str, Schema]:
    error = {"description": "error", "content": {"application/json": {"schema": _ref("Error")}}}
    return {
        status: {"description": description, "content": {"application/json": {"schema": schema}}},
        "400": error,
        "403": {
            **error,
            "description": "the caller is not on loopback, its Host is not a loopback name or the "
            "issuer's host, or it is a web page of another origin",
        },
    }


def _op(summary: str, op_id: str, responses: dict[str, Schema], body: Schema | None = None) -> Schema:
    operation: Schema = {"summary": summary, "operationId": op_id, "responses": responses}
    if body is not None:
        operation["requestBody"] = body
    return operation


def _registration(name: str, section: str) -> Schema:
    listed = _obj({section: {"type": "array", "items": _ref(name)}})
    keys = "the same keys as the config file's"
    return {
        "post": _op(
            f"Register {section} ({keys} '{section}' entries)",
            f"add_{section}",
            _answer("registered", listed, "201"),
            _json_body(_one_or_many(name)),
        )
    }


def _paths() -> dict[str, Schema]:
    faults = _ref("Faults")
    return {
        "/tokens": {
            "post": _op(
                "Mint an access token (optionally with defects)",
                "mint_token",
                _answer("a token", _ref("MintResponse")),
                _json_body(_ref("MintRequest"), required=False),
            )
        },
        "/faults": {
            "get": _op("List queued faults", "list_faults", _answer("the queue", faults)),
            "post": _op(
                "Queue faults",
                "add_faults",
                _answer("queued", faults, "201"),
                _json_body(_one_or_many("Fault")),
            ),
            "delete": _op("Clear every fault", "clear_faults", _answer("cleared", faults)),
        },
        "/token-defects": {
            "get": _op(
                "List planned token defects", "list_token_defects", _answer("plans", _ref("TokenDefectPlans"))
            ),
            "post": _op(
                "Make the token endpoint issue defective access or ID tokens",
                "plan_token_defects",
                _answer("planned", _ref("TokenDefectPlans"), "201"),
                _json_body(_one_or_many("TokenDefectPlan")),
            ),
            "delete": _op(
                "Drop every plan until the next reset",
                "clear_token_defects",
                _answer("cleared", _ref("TokenDefectPlans")),
            ),
        },
        "/token-claims": {
            "get": _op(
                "List planned token claims", "list_token_claims", _answer("plans", _ref("TokenClaimsPlans"))
            ),
            "post": _op(
                "Add claims to the next access tokens of the token endpoint",
                "plan_token_claims",
                _answer("planned", _ref("TokenClaimsPlans"), "201"),
                _json_body(_one_or_many("TokenClaimsPlan")),
            ),
            "delete": _op(
                "Drop every claims plan until the next reset",
                "clear_token_claims",
                _answer("cleared", _ref("TokenClaimsPlans")),
            ),
        },
        "/misbehaviour": {
            "get": _op("Read the switches", "get_misbehaviour", _answer("switches", _ref("Misbehaviour"))),
            "post": _op(
                "Change some switches (others keep their value)",
                "set_misbehaviour",
                _answer("switches", _ref("Misbehaviour")),
                _json_body(_ref("Misbehaviour")),
            ),
            "delete": _op(
                "Back to the configured switches",
                "reset_misbehaviour",
                _answer("switches", _ref("Misbehaviour")),
            ),
        },
        **_state_paths(),
    }


def _state_paths() -> dict[str, Schema]:
    journal_param = {"name": "include_control", "in": "query", "schema": {"type": "boolean"}}
    return {
        "/journal": {
            "get": {
                **_op(
                    "Read the journal",
                    "read_journal",
                    _answer(
                        "requests, oldest first; credentials as '[redacted len=N sha256:xxxxxxxx]' markers",
                        _ref("Journal"),
                    ),
                ),
                "parameters": [journal_param],
            },
            "delete": _op("Clear the journal", "clear_journal", _answer("cleared", _ref("Journal"))),
        },
        "/clock": {
            "get": _op("Read the clock", "get_clock", _answer("the clock", _ref("Clock"))),
            "post": _op(
                "Freeze or unfreeze, then set, then advance the clock",
                "set_clock",
                _answer("the clock", _ref("Clock")),
                _json_body(_ref("ClockUpdate")),
            ),
        },
        "/clients": _registration("Client", "clients"),
        "/users": _registration("User", "users"),
        "/apis": _registration("Api", "apis"),
        "/rotate-keys": {
            "post": _op(
                "Rotate the signing key",
                "rotate_keys",
                _answer("the new key", _ref("RotatedKeys")),
                _json_body(_ref("RotateKeys"), required=False),
            )
        },
        "/add-key": {
            "post": _op(
                "Publish a new key that signs nothing until activated",
                "add_key",
                _answer("the keys", _ref("RotatedKeys")),
            )
        },
        "/activate-key": {
            "post": _op(
                "Sign with a published key from now on",
                "activate_key",
                _answer("the keys", _ref("RotatedKeys")),
                _json_body(_ref("KeyId")),
            )
        },
        "/retire-key": {
            "post": _op(
                "Stop publishing a key (not the current one)",
                "retire_key",
                _answer("the keys", _ref("RotatedKeys")),
                _json_body(_ref("KeyId")),
            )
        },
        "/reset": {
            "post": _op(
                "Back to the config (registrations, tokens, keys, journal, clock, faults, misbehaviour)",
                "reset",
                _answer("reset", _obj({"reset": {"type": "boolean"}})),
            )
        },
        "/openapi.json": {
            "get": _op("This document", "openapi", {"200": {"description": "OpenAPI 3.1 document"}}),
        },
    }


def document(issuer: str) -> dict[str, Any]:
    """The OpenAPI document, its server URL being this IdP's control prefix."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mockidp control API",
            "version": "1",
            "description": "Test hooks of a running mockidp: loopback callers with a loopback (or the "
            "issuer's) Host only, JSON in and out.",
        },
        "servers": [{"url": f"{issuer.rstrip('/')}/_mockidp"}],
        "paths": _paths(),
        "components": {"schemas": _schemas()},
    }


async def handle(request: web.Request) -> web.StreamResponse:
    return json_response(document(request.app[STATE].issuer))
