"""The package's public surface stays small, sorted and importable."""

from __future__ import annotations

import mockidp


def test_all_is_sorted_and_importable() -> None:
    assert mockidp.__all__ == sorted(mockidp.__all__)
    for name in mockidp.__all__:
        assert getattr(mockidp, name) is not None


def test_packages_are_typed() -> None:
    from importlib.resources import files

    assert files("mockidp").joinpath("py.typed").is_file()
    assert files("pytest_mockidp").joinpath("py.typed").is_file()
