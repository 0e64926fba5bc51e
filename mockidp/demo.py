"""The built-in demo configuration, shipped as ``demo.yaml`` beside this module."""

from __future__ import annotations

import functools
from pathlib import Path

from .config import IdPConfig, load_config

DEMO_PATH = Path(__file__).with_name("demo.yaml")


@functools.lru_cache(maxsize=1)
def demo_config() -> IdPConfig:
    """A machine agent, an app acting for a person, one person and one API."""
    return load_config(DEMO_PATH)


def describe(config: IdPConfig) -> str:
    """A few lines a person can read at start-up: who can get tokens, and for what."""
    lines = []
    for client in config.clients:
        secret = f" secret={client.client_secret}" if client.client_secret else " (public)"
        grants = ",".join(client.allowed_grant_types)
        lines.append(f"client: {client.client_id}{secret} grants={grants} scopes={' '.join(client.scopes)}")
    for user in config.users:
        lines.append(f"user:   {user.login_name} password={user.password or '(one-click only)'}")
    for api in config.apis:
        lines.append(f"api:    {api.audience} scopes={' '.join(api.scopes)}")
    return "\n".join(lines)


__all__ = ["DEMO_PATH", "demo_config"]
