"""The control API's OpenAPI component schemas are generated from dataclasses, not written by hand.

Config models, faults, journal records and the key and clock bodies: each component's keys are
its dataclass's fields, and its descriptions the fields' ``#:`` comments, so a field added to a
model is documented (and validated) without touching ``openapi.py``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import requests

from mockidp import MockIdP, RequestRecord
from mockidp.faults import Fault
from mockidp.loading import json_schema
from mockidp.web.control.bodies import ClockReading, ClockUpdate, KeyId, RotatedKeys, RotateKeys
from mockidp.web.control.openapi import document

#: component name -> the dataclass it is generated from
GENERATED: dict[str, type] = {
    "Fault": Fault,
    "RequestRecord": RequestRecord,
    "Clock": ClockReading,
    "ClockUpdate": ClockUpdate,
    "RotateKeys": RotateKeys,
    "KeyId": KeyId,
    "RotatedKeys": RotatedKeys,
}
#: the components still written in openapi.py: list wrappers, the mint request (a string or a
#: list per key), its answer and the error body
HAND_WRITTEN = {
    "Error",
    "Faults",
    "Journal",
    "MintRequest",
    "MintResponse",
    "PolledApproval",
    "PolledRequest",
    "PolledRequests",
    "PolledSelector",
    "QueuedFault",
    "TokenClaimsPlans",
    "TokenDefectPlans",
}
CONFIG_MODELS = {
    "Client",
    "ExchangeConfig",
    "User",
    "Api",
    "Misbehaviour",
    "TokenDefectPlan",
    "TokenClaimsPlan",
}


@pytest.fixture(scope="module")
def schemas() -> dict[str, Any]:
    components: dict[str, Any] = document("http://127.0.0.1:9400")["components"]["schemas"]
    return components


def test_every_component_is_accounted_for(schemas: dict[str, Any]) -> None:
    assert set(schemas) == set(GENERATED) | HAND_WRITTEN | CONFIG_MODELS


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_component_is_its_dataclass(schemas: dict[str, Any], name: str) -> None:
    model = GENERATED[name]
    generated = json_schema(model, {}, comment_docs=True)
    schema = schemas[name]
    assert list(schema["properties"]) == [f.name for f in dataclasses.fields(model) if f.init]
    assert schema["additionalProperties"] is False
    assert schema.get("required", []) == generated.get("required", [])
    for key, prop in generated["properties"].items():
        assert schema["properties"][key].get("description") == prop.get("description"), (name, key)
        assert prop.get("description"), f"{name}.{key} has no #: comment"


def test_queued_fault_is_a_fault_plus_remaining(schemas: dict[str, Any]) -> None:
    fault, queued = schemas["Fault"]["properties"], schemas["QueuedFault"]["properties"]
    assert list(queued) == [*fault, "remaining"]


def test_generated_bodies_accept_what_the_handlers_answer(mockidp: MockIdP, http: requests.Session) -> None:
    """The generated schemas are strict (no extra keys): real answers validate against them."""
    from jsonschema import Draft202012Validator

    control = mockidp.url("_mockidp")
    spec = http.get(f"{control}/openapi.json").json()

    def check(name: str, value: Any) -> None:
        Draft202012Validator(spec["components"]["schemas"][name]).validate(value)

    http.post(f"{control}/faults", json={"endpoint": "jwks", "kind": "status", "times": "always"})
    http.get(mockidp.url("jwks"))
    journal = http.get(f"{control}/journal").json()["requests"]
    assert journal
    for record in journal:
        check("RequestRecord", record)
    check("Clock", http.post(f"{control}/clock", json={"freeze": True, "advance": 5}).json())
    check("RotatedKeys", http.post(f"{control}/rotate-keys", json={"keep": 0, "publish_first": True}).json())
    check("RotatedKeys", http.post(f"{control}/add-key").json())
