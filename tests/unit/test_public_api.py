"""The package's public surface stays small, sorted and importable."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import mockidp

ROOT = Path(__file__).resolve().parents[2]


def test_all_is_sorted_and_importable() -> None:
    assert mockidp.__all__ == sorted(mockidp.__all__)
    for name in mockidp.__all__:
        assert getattr(mockidp, name) is not None


def test_packages_are_typed() -> None:
    from importlib.resources import files

    assert files("mockidp").joinpath("py.typed").is_file()
    assert files("pytest_mockidp").joinpath("py.typed").is_file()


def _all_modules() -> list[ModuleType]:
    import pytest_mockidp

    found = []
    for package in (mockidp, pytest_mockidp):
        found.append(package)
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if not info.name.endswith(".__main__"):  # importing it runs the CLI
                found.append(importlib.import_module(info.name))
    return found


#: exceptions allowed outside errors.py (none)
_VERIFIER_PENDING: set[str] = set()


def test_every_exception_lives_in_errors_and_derives_from_mockidp_error() -> None:
    from mockidp import errors

    elsewhere = []
    for module in _all_modules():
        for name, value in vars(module).items():
            if not (isinstance(value, type) and issubclass(value, BaseException)):
                continue
            if value.__module__ != module.__name__ or module is errors:
                continue
            if f"{module.__name__}.{name}" not in _VERIFIER_PENDING:
                elsewhere.append(f"{module.__name__}.{name}")
    assert elsewhere == []
    defined = [v for v in vars(errors).values() if isinstance(v, type) and v.__module__ == errors.__name__]
    assert defined
    for cls in defined:
        if issubclass(cls, BaseException):
            assert issubclass(cls, errors.MockIdPError), cls
            assert cls.__name__ in (errors.__doc__ or ""), f"{cls.__name__} is missing from the tree"


#: the public modules and their names, pinned: adding or removing a public name is a deliberate
#: change of this list (and of docs/library.md's "Public modules"); every other module is internal
PUBLIC: dict[str, list[str]] = {
    "mockidp": [
        "ApiConfig",
        "ClientConfig",
        "ClockError",
        "ConfigError",
        "Fault",
        "IdPConfig",
        "IssuedCert",
        "MisbehaviourConfig",
        "MockClock",
        "MockIdP",
        "MockIdPError",
        "OAuthError",
        "RequestRecord",
        "ScenarioError",
        "ServerBugError",
        "UserConfig",
        "WorkloadIssuer",
        "ca_path",
        "issue_cert",
        "load_config",
        "parse_config",
        "redacted",
        "ssl_context",
    ],
    "mockidp.errors": [
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
    ],
    "mockidp.loading": [
        "Origin",
        "Source",
        "build",
        "json_schema",
        "located",
        "parse_yaml",
        "plain_data",
        "to_dict",
    ],
    "mockidp.demo": ["DEMO_PATH", "demo_config"],
    "mockidp.defects": [
        "CATALOG",
        "CHECK_API_DEFAULTS",
        "DPOP_CATALOG",
        "GROUPS",
        "NOT_SENT_BY_DEFAULT",
        "POLICY_DEFECTS",
        "DPoPDefect",
        "Defect",
        "MintContext",
        "Minted",
        "MintingIdP",
        "TokenKind",
        "defect_names",
        "get_defect",
        "mint_token",
        "resolve_defects",
    ],
    "mockidp.resources": [
        "DEFAULT_APIS",
        "ApiCall",
        "McpOptions",
        "MockApi",
        "MockApis",
        "StepUp",
    ],
    "mockidp.conformance": [
        "AgentReport",
        "ApiReport",
        "ApiTarget",
        "Case",
        "LoadedScenario",
        "Scenario",
        "ScenarioResult",
        "TrialReport",
        "load_scenario",
        "parse_scenario",
        "run_scenario",
    ],
    "mockidp.conformance.check_api": [
        "ApiTarget",
        "Catalog",
        "RunOptions",
        "access_token_catalog",
        "check_api",
    ],
    "mockidp.conformance.check_agent": ["agent_config", "check_agent"],
    "pytest_mockidp.strategies": [
        "REGISTERED_CLAIMS",
        "DrawnToken",
        "bad_tokens",
        "claims",
        "clients",
        "defect_sets",
        "defects",
        "tokens",
        "users",
    ],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_are_pinned(module: str) -> None:
    imported = importlib.import_module(module)
    assert imported.__all__ == PUBLIC[module]
    for name in imported.__all__:
        assert hasattr(imported, name), f"{module}.{name}"


def _documented_code() -> Iterator[tuple[str, str]]:
    """(where, Python source) of every Python block in the README and docs, and every example."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for i, block in enumerate(re.findall(r"```python\n(.*?)```", text, flags=re.S)):
            yield f"{page.relative_to(ROOT)} (block {i + 1})", block
    for example in sorted((ROOT / "docs" / "examples").glob("*.py")):
        yield str(example.relative_to(ROOT)), example.read_text(encoding="utf-8")


def _imports(source: str) -> Iterator[tuple[str, str | None]]:
    """(module, name or None) of every import in ``source`` (line by line for a fragment)."""
    try:
        trees = [ast.parse(source)]
    except SyntaxError:  # an excerpt such as an indented function body: its import lines
        lines = [line.strip() for line in source.splitlines()]
        starts = ("from ", "import ")
        trees = [ast.parse(line) for line in lines if line.startswith(starts) and not line.endswith("(")]
    for node in (n for tree in trees for n in ast.walk(tree)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                yield node.module, alias.name


def test_docs_and_readme_import_only_public_names() -> None:
    private = []
    for where, source in _documented_code():
        for module, name in _imports(source):
            if module.split(".")[0] not in ("mockidp", "pytest_mockidp") or module == "pytest_mockidp":
                continue
            if module not in PUBLIC or (name is not None and name not in PUBLIC[module]):
                private.append(f"{where}: {module}{'' if name is None else '.' + name}")
    assert private == []
