"""mockidp: a strict mock OAuth 2.1 / OpenID Connect identity provider for tests."""

from .clock import MockClock
from .config import ApiConfig, ClientConfig, IdPConfig, UserConfig, load_config, parse_config
from .errors import ConfigError, MockIdPError, OAuthError, ScenarioError
from .journal import RequestRecord
from .server import MockIdP, ServerBugError

__all__ = [
    "ApiConfig",
    "ClientConfig",
    "ConfigError",
    "IdPConfig",
    "MockClock",
    "MockIdP",
    "MockIdPError",
    "OAuthError",
    "RequestRecord",
    "ScenarioError",
    "ServerBugError",
    "UserConfig",
    "load_config",
    "parse_config",
]
