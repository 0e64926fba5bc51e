"""RFC 9728 checks for resource servers that MCP clients discover: metadata and the 401 pointer."""

from __future__ import annotations

from urllib.parse import urlsplit

from .case import Case
from .check_api import ApiTarget
from .probe import challenge_params, get_json, send

SPEC = "RFC 9728 sections 3 and 5.1; MCP authorization"


def metadata_url(resource: str) -> str:
    """``/.well-known/oauth-protected-resource`` inserted before the resource's path (section 3.1)."""
    parts = urlsplit(resource)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}/.well-known/oauth-protected-resource{path}"


def metadata_cases(target: ApiTarget, issuer: str) -> list[Case]:
    """``resource-metadata``: the document names the resource and the IdP.
    ``challenge-resource-metadata``: the 401 without a token points at it."""
    url = metadata_url(target.audience)
    status, doc = get_json(url)
    problems = []
    if status != 200 or not isinstance(doc, dict):
        problems.append(f"GET {url} answered {status or 'nothing'} without a JSON object")
    else:
        if doc.get("resource") != target.audience:
            problems.append(f"resource is {doc.get('resource')!r}, not the canonical URI {target.audience!r}")
        servers = doc.get("authorization_servers")
        if not isinstance(servers, list) or issuer not in servers:
            problems.append(f"authorization_servers {servers!r} does not list the IdP {issuer}")
    cases = [_case("resource-metadata", problems)]
    answer = send(target.url, target.method, None)
    pointer = challenge_params(answer.challenge or "").get("resource_metadata")
    challenge_problems = []
    if answer.status != 401:
        challenge_problems.append(f"no token got {answer.describe()}, not 401")
    elif pointer != url:
        challenge_problems.append(f"401 challenge resource_metadata is {pointer!r}, expected {url!r}")
    cases.append(_case("challenge-resource-metadata", challenge_problems))
    return cases


def _case(name: str, problems: list[str]) -> Case:
    return Case(
        name=name,
        passed=not problems,
        detail="; ".join(problems),
        spec=SPEC,
        got="ok" if not problems else "wrong",
    )
