"""Keys that outlive a process: ``serve --keys``, ``mint --keys`` and ``mint --server``."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import jwt
import pytest
from serving import MOCKIDP, ServeProcess

from mockidp import MockIdP, MockIdPError


def verify(token: str, issuer: str) -> dict[str, object]:
    key = jwt.PyJWKClient(f"{issuer}/jwks").get_signing_key_from_jwt(token)
    claims: dict[str, object] = jwt.decode(
        token, key, algorithms=["RS256"], audience="demo-api", issuer=issuer
    )
    return claims


def mint(*args: str) -> str:
    done = subprocess.run([MOCKIDP, "mint", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_library_key_file_is_made_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    with MockIdP(key_file=path) as first:
        kid = first.signing_key.kid
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with MockIdP(key_file=path) as second:
        assert second.signing_key.kid == kid
        second.reset()
        assert second.signing_key.kid == kid
    with MockIdP(key_file=path, signing_alg="ES256") as third:  # another alg: added beside
        assert third.signing_key.alg == "ES256"
    assert [k["alg"] for k in json.loads(path.read_text())["keys"]] == ["RS256", "ES256"]


def test_a_broken_key_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text("{not json")
    with pytest.raises(MockIdPError, match="not a key file written by mockidp"):
        MockIdP(key_file=path)


@pytest.mark.slow
def test_mint_and_serve_share_keys_across_processes(tmp_path: Path) -> None:
    keys = str(tmp_path / "k.json")
    with ServeProcess("--port", "0", "--keys", keys) as server:
        issuer = server.issuer
        token = mint("--keys", keys, "--issuer", issuer)
        assert verify(token, issuer)["client_id"] == "demo-agent"
        via_control_api = mint("--server", issuer, "--defect", "scope-insufficient")
        assert verify(via_control_api, issuer)["iss"] == issuer
    with ServeProcess("--port", "0", "--keys", keys) as restarted:  # same keys after a restart
        issuer = restarted.issuer
        assert verify(mint("--keys", keys, "--issuer", issuer), issuer)
        stranger = mint("--issuer", issuer)  # no --keys: a key of its own
        with pytest.raises(jwt.PyJWTError):
            verify(stranger, issuer)
