"""``mockidp.defects.CHECK_API_DEFAULTS`` is exactly what a check-api run sends from the catalog."""

from __future__ import annotations

from mockidp import MockIdP
from mockidp.conformance.check_api import ApiTarget, RunOptions, access_token_catalog, prepare, run_cases
from mockidp.defects import CATALOG, CHECK_API_DEFAULTS, NOT_SENT_BY_DEFAULT
from mockidp.demo import demo_config
from mockidp.resources import MockApis


def test_the_documented_list_is_what_a_run_sends() -> None:
    assert tuple(access_token_catalog()) == CHECK_API_DEFAULTS
    assert not set(NOT_SENT_BY_DEFAULT) & set(CHECK_API_DEFAULTS)
    assert set(NOT_SENT_BY_DEFAULT) <= set(CATALOG)
    with MockIdP(demo_config()) as idp, MockApis(idp, ["inventory"]) as hosted:
        api = hosted["inventory"]
        target = ApiTarget(url=api.url, audience=api.url, scope="inventory:read")
        prepare(idp, target)
        options = RunOptions(placement=False, expiry_wait=False)
        report = run_cases(idp, target, access_token_catalog(), options=options)
    sent = {c.name for c in report.cases} - {"valid-token", "no-token"}
    skipped = {n for n in CHECK_API_DEFAULTS if CATALOG[n].requires_alg not in (None, "RS256")}
    assert sent == set(CHECK_API_DEFAULTS) - skipped
