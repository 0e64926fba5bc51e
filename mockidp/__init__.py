"""mockidp: a strict mock OAuth 2.1 / OpenID Connect identity provider for tests."""

from .clock import MockClock
from .config import ApiConfig, ClientConfig, IdPConfig, UserConfig, load_config, parse_config
from .errors import ClockError, ConfigError, MockIdPError, OAuthError, ScenarioError, ServerBugError
from .faults import Fault
from .journal import RequestRecord, redacted
from .misbehaviour import MisbehaviourConfig
from .server import MockIdP
from .tls import IssuedCert, ca_path, issue_cert, ssl_context
from .workload import WorkloadIssuer

__all__ = [
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
]
