"""A device-flow agent (RFC 8628) for the check-agent tests, on requests alone.

    python device_agent.py [--habit fast|ignore-slow-down]

It reads the MOCKIDP_* environment, and for each API runs one device authorization (with
``resource`` = the API's URL and only the scope it needs), shows the user code, polls the token
endpoint as RFC 8628 section 3.5 says (the interval between polls, 5 s more after each
``slow_down``, and a stop at ``access_denied`` or ``expired_token``), then calls the API once.

Habits: ``fast`` polls every 0.2 s whatever the interval; ``ignore-slow-down`` keeps the first
interval after a ``slow_down``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import requests

DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
HABITS = ("fast", "ignore-slow-down")


class AgentError(Exception):
    pass


class DeviceAgent:
    def __init__(self, habit: str | None) -> None:
        self.habit = habit
        self.issuer = os.environ["MOCKIDP_ISSUER"]
        self.client_id = os.environ["MOCKIDP_CLIENT_ID"]
        self.apis = {
            k[len("MOCKIDP_API_") : -len("_URL")].lower(): v
            for k, v in sorted(os.environ.items())
            if k.startswith("MOCKIDP_API_") and k.endswith("_URL")
        }
        self.http = requests.Session()
        self.http.trust_env = False
        self.metadata: dict[str, Any] = {}

    def discover(self) -> None:
        r = self.http.get(f"{self.issuer}/.well-known/oauth-authorization-server", timeout=5)
        r.raise_for_status()
        self.metadata = r.json()
        if self.metadata.get("issuer") != self.issuer:
            raise AgentError("metadata issuer mismatch")

    def token_for(self, name: str, url: str) -> str:
        data = {"client_id": self.client_id, "scope": f"{name}:read", "resource": url}
        r = self.http.post(self.metadata["device_authorization_endpoint"], data=data, timeout=5)
        if r.status_code != 200:
            raise AgentError(f"device authorization said {r.status_code}: {r.text[:200]}")
        started = r.json()
        print(f"agent: visit {started['verification_uri']} and enter {started['user_code']}")
        return self.poll(
            started["device_code"], float(started.get("interval", 5)), float(started["expires_in"])
        )

    def poll(self, device_code: str, interval: float, expires_in: float) -> str:
        form = {"grant_type": DEVICE, "device_code": device_code, "client_id": self.client_id}
        deadline = time.monotonic() + expires_in
        while time.monotonic() < deadline:
            time.sleep(0.2 if self.habit == "fast" else interval)
            r = self.http.post(self.metadata["token_endpoint"], data=form, timeout=5)
            if r.status_code == 200:
                return str(r.json()["access_token"])
            error = r.json().get("error")
            if error == "slow_down" and self.habit != "ignore-slow-down":
                interval += 5
            elif error not in ("authorization_pending", "slow_down"):
                raise AgentError(f"token endpoint said {error}")
        raise AgentError("the device code expired")

    def run(self) -> None:
        self.discover()
        for name, url in self.apis.items():
            token = self.token_for(name, url)
            r = self.http.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
            if r.status_code != 200:
                raise AgentError(f"{name} said {r.status_code}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--habit", choices=HABITS)
    args = parser.parse_args()
    try:
        DeviceAgent(args.habit).run()
    except (AgentError, requests.RequestException, KeyError, ValueError) as exc:
        print(f"agent: {exc}", file=sys.stderr)
        return 1
    print("agent: done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
