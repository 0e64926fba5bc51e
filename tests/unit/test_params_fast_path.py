"""``params.decode`` skips ``parse_qsl``'s unquoting when nothing is escaped; same answer either way."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockidp.errors import InvalidRequest
from mockidp.params import decode

FORM_TEXT = st.text(alphabet=st.sampled_from(list("ab=&;%+ é~-_.\x00")), max_size=40)


def reference(text: str) -> dict[str, list[str]] | None:
    """What decode gave before the fast path (parse_qsl for everything); None: refused."""
    values: dict[str, list[str]] = {}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except ValueError:  # UnicodeDecodeError included
        return None
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            return None
        if value:
            values.setdefault(name, []).append(value)
    return values


@settings(max_examples=500, deadline=None)
@given(FORM_TEXT)
def test_decode_matches_parse_qsl(text: str) -> None:
    expected = reference(text)
    if expected is None:
        with pytest.raises(InvalidRequest):
            decode(text)
        return
    assert dict(decode(text).values) == expected
    assert dict(decode(text.encode("utf-8")).values) == expected


def test_the_common_forms() -> None:
    assert decode("").values == {}
    assert decode(b"").values == {}
    assert decode("grant_type=client_credentials&resource=a&resource=b&x=").values == {
        "grant_type": ["client_credentials"],
        "resource": ["a", "b"],
    }
    assert decode("a=1=2&&b").values == {"a": ["1=2"]}
    assert decode("scope=a+b&c=%C3%A9").values == {"scope": ["a b"], "c": ["é"]}
