"""``Store.remember_jti``: one-time identifiers per scope, forgotten once expired, bounded."""

from __future__ import annotations

from mockidp.config import IdPConfig
from mockidp.store import PRUNE_AT, Store


def test_a_jti_is_new_once_per_scope_until_it_expires() -> None:
    store = Store(IdPConfig())
    assert store.remember_jti("dpop:token", "j1", 100.0, now=40.0) is True
    assert store.remember_jti("dpop:token", "j1", 100.0, now=50.0) is False  # a replay
    assert store.remember_jti("dpop:https://api", "j1", 100.0, now=50.0) is True  # another scope
    assert store.remember_jti("dpop:token", "j1", 200.0, now=150.0) is True  # expired: forgotten


def test_reset_forgets_every_jti() -> None:
    store = Store(IdPConfig())
    store.remember_jti("s", "j", 100.0)
    store.load(IdPConfig())
    assert store.remember_jti("s", "j", 100.0) is True


def test_memory_stays_bounded_under_load() -> None:
    store = Store(IdPConfig())
    for i in range(3 * PRUNE_AT):
        assert store.remember_jti("s", f"j{i}", float(i), now=float(i) - 1)
    assert len(store._seen_jtis) <= PRUNE_AT + 1
