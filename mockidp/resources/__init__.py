"""Mock protected APIs hosted by mockidp: strict bearer-token resource servers for agent tests."""

from .api import ApiCall, MockApi, StepUp
from .host import DEFAULT_APIS, MockApis

__all__ = [
    "DEFAULT_APIS",
    "ApiCall",
    "MockApi",
    "MockApis",
    "StepUp",
]
