"""Mock protected APIs hosted by mockidp: strict bearer-token resource servers for agent tests."""

from .api import ApiCall, MockApi, StepUp
from .host import DEFAULT_APIS, MockApis
from .mcp_options import McpOptions

__all__ = [
    "DEFAULT_APIS",
    "ApiCall",
    "McpOptions",
    "MockApi",
    "MockApis",
    "StepUp",
]
