"""UserInfo releases the claims of the granted scopes; bad tokens get RFC 6750 challenges."""

import pytest
import requests


@pytest.mark.mockidp(
    users=[
        {
            "sub": "u-1",
            "username": "dana",
            "password": "pw",
            "claims": {"name": "Dana Lee", "email": "dana@example.com", "groups": ["admins"]},
        }
    ]
)
def test_userinfo_for_a_configured_user(mockidp):
    # issue_token mints without HTTP; the subject is the user, the scopes decide the claims.
    token = mockidp.issue_token(client_id="demo-app", subject="u-1", scope="openid email")
    r = requests.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {token}"})
    assert r.json() == {"sub": "u-1", "email": "dana@example.com", "groups": ["admins"]}


def test_userinfo_challenges(mockidp):
    r = requests.get(mockidp.url("userinfo"))
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Bearer realm="mockidp"'

    r = requests.get(mockidp.url("userinfo"), headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]

    mockidp.clock.freeze()
    token = mockidp.issue_token(client_id="demo-app", subject="alice", scope="openid")
    mockidp.clock.advance(301)
    r = requests.get(mockidp.url("userinfo"), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and "expired" in r.headers["WWW-Authenticate"]
