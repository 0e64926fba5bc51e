"""docs/configuration.md's key tables are generated from the config dataclasses and current.

``python -m mockidp.config_reference`` writes them; the descriptions are the fields' ``#:``
comments (or ``metadata["doc"]``), the same text as the control API's OpenAPI schemas.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from mockidp import IdPConfig
from mockidp.config import SIGNING_ALGS
from mockidp.config_reference import BEGIN, END, main, render, render_tables, sections, table
from mockidp.loading import json_schema

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_page_is_current() -> None:
    """Fails after a config model changed: run ``python -m mockidp.config_reference``."""
    text = PAGE.read_text("utf-8")
    assert render(text) == text, "docs/configuration.md is stale: run python -m mockidp.config_reference"
    assert main(["--check", "--output", str(PAGE)]) == 0


def test_every_model_and_key_has_a_table_row() -> None:
    tables = render_tables()
    found = sections()
    titles = [s.title for s in found]
    assert titles[0] == "Top-level keys" and len(set(titles)) == len(titles)
    assert {
        "`clients[]`",
        "`users[]`",
        "`apis[]`",
        "`cimd`",
        "`faults[]`",
        "`misbehaviour`",
        "`clock`",
        "`token_defects[]`",
        "`token_claims[]`",
        "`device`",
        "`ciba`",
        "`clients[].exchange`",
        "`trusted_issuers[]`",
    } <= set(titles)
    for section in found:
        assert f"### {section.title}\n" in tables
        for f in dataclasses.fields(section.cls):
            if f.init:
                assert f"| `{f.name}` |" in tables, (section.title, f.name)
    assert "| `origin` |" not in tables  # not a key


def test_descriptions_are_the_schema_ones() -> None:
    """One source: the row text is the description ``json_schema`` gives the control API."""
    where = {s.cls: s for s in sections()}
    for section in sections():
        rows = "\n".join(table(section, where))
        props = json_schema(section.cls, {}, comment_docs=True)["properties"]
        for name, prop in props.items():
            first_words = prop.get("description", "").replace("``", "`").split()[:4]
            assert " ".join(first_words) in rows, (section.title, name)


def test_prose_outside_the_markers_is_kept(tmp_path: Path) -> None:
    page = tmp_path / "configuration.md"
    page.write_text(f"# Title\n\nhand-written\n\n{BEGIN}\nSTALE-TABLES\n{END}\n\nafter\n", "utf-8")
    assert main(["--check", "--output", str(page)]) == 1
    assert main(["--output", str(page)]) == 0
    text = page.read_text("utf-8")
    assert text.startswith("# Title\n\nhand-written\n\n")
    assert text.endswith(f"{END}\n\nafter\n")
    assert "STALE-TABLES" not in text
    assert main(["--check", "--output", str(page)]) == 0


def test_a_page_without_markers_is_an_error() -> None:
    with pytest.raises(ValueError, match="GENERATED markers"):
        render("# no markers here\n")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Nested:
    """A nested model added later."""

    undocumented: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class _Root:
    """A model with fields written by someone who documented nothing."""

    name: str
    mode: Literal["a", "b"] = "a"
    nested: tuple[_Nested, ...] = ()
    single: _Nested = field(default_factory=_Nested)
    weird: complex | None = None
    #: documented
    with_doc: bool = False
    with_metadata: str = field(default="x", metadata={"doc": "from metadata"})


def test_new_fields_without_descriptions_still_get_rows() -> None:
    """Fields other branches add need no description to be documented (and never crash)."""
    found = sections(_Root)
    assert [s.title for s in found] == ["Top-level keys", "`nested[]`"]
    where = {s.cls: s for s in found}
    rows = "\n".join(table(found[0], where))
    assert "| `name` | string | required |  |" in rows
    assert "| `mode` | `a` \\| `b` | `a` |  |" in rows
    assert "| `nested` | list (`nested[]`) | `[]` |  |" in rows
    assert "| `single` | mapping (`nested[]`) |  |  |" in rows
    assert "| `weird` | any |  |  |" in rows
    assert "| `with_doc` | boolean | `false` | documented |" in rows
    assert "| `with_metadata` | string | `x` | from metadata |" in rows
    assert "| `undocumented` | integer | `0` |  |" in "\n".join(table(found[1], where))


def test_the_tables_load_as_the_config_says() -> None:
    """The defaults shown are the model's: an empty config has exactly those values."""
    config = IdPConfig()
    tables = render_tables()
    assert f"| `access_token_ttl` | integer | `{config.access_token_ttl}` |" in tables
    algs = " \\| ".join(f"`{a}`" for a in sorted(SIGNING_ALGS))
    assert f"| `signing_alg` | {algs} | `{config.signing_alg}` |" in tables
