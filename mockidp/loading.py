"""The generic dataclass loader: YAML or plain data -> frozen dataclasses, errors at file:line.

Every configuration surface (the config file, the pytest marker, the control API, faults,
misbehaviour switches, scenarios) is a tree of frozen dataclasses built here, so each accepts the
same keys and types and a mistake always names the key path, and the file and line when there is
one. This module knows nothing about any particular model; the models sit above it.

A model that is checked again later (the IdP config, when the IdP is built: its defect names
need the catalog) declares an ``origin`` field with ``init=False, compare=False``; :func:`build`
fills it in, and :func:`located` turns a later :class:`ConfigError` into one at its file and line.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import yaml

from .errors import ConfigError, did_you_mean

T = TypeVar("T")

__all__ = [
    "Origin",
    "Source",
    "build",
    "json_schema",
    "located",
    "parse_yaml",
    "plain_data",
    "to_dict",
]


@dataclass(frozen=True, slots=True)
class Source:
    """Where data was read from: the file (``None``: not a file) and the line of each key path."""

    file: str | None = None
    lines: Mapping[str, int] = dataclasses.field(default_factory=dict)

    def error(self, message: str, path: str) -> ConfigError:
        return ConfigError(message, file=self.file, key_path=path, line=self.line(path))

    def line(self, path: str) -> int | None:
        """The line of ``path``, or of the nearest enclosing key that has one."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where one built model came from: its :class:`Source` and its own key path there."""

    source: Source
    path: str = ""
    #: the model's own keys that came from the source (``None``: all); a copy with some keys
    #: replaced (``IdPConfig.merged``) must not blame the file for the replaced ones
    keys: frozenset[str] | None = None

    def error(self, exc: ConfigError) -> ConfigError:
        """``exc`` (its key path relative to the model) at the file and line it came from."""
        if self.keys is not None and top_key(exc.key_path) not in self.keys:
            return exc
        return self.source.error(exc.message, join(self.path, exc.key_path) if exc.key_path else self.path)


def top_key(path: str) -> str:
    """The first key of a key path (``clients[0].scopes`` -> ``clients``)."""
    return path.split(".", 1)[0].split("[", 1)[0]


def located(model: Any, exc: ConfigError) -> ConfigError:
    """``exc``, raised while checking ``model`` after it was built, at the model's file and line."""
    origin = getattr(model, "origin", None)
    return origin.error(exc) if isinstance(origin, Origin) else exc


def join(path: str, key: str) -> str:
    """The key path of ``key`` inside ``path`` (``a`` + ``b`` -> ``a.b``)."""
    return f"{path}.{key}" if path else key


def parse_yaml(text: str, *, file: str | None = None) -> tuple[Any, Source]:
    """YAML text -> plain data (``None`` for an empty document) and the lines of its key paths."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"invalid YAML: {problem}", file=file, line=line) from None
    if node is None:
        return None, Source(file, {})
    lines: dict[str, int] = {}
    data = plain_data(node, "", lines, file)
    return data, Source(file, lines)


def to_dict(config: Any) -> Any:
    """The plain-data form of a config object (lists, dicts, scalars), as YAML would hold it."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return {f.name: to_dict(getattr(config, f.name)) for f in dataclasses.fields(config) if f.init}
    if isinstance(config, tuple):
        return [to_dict(v) for v in config]
    if isinstance(config, Mapping):
        return {k: to_dict(v) for k, v in config.items()}
    return config


def plain_data(node: yaml.Node, path: str, lines: dict[str, int], file: str | None) -> Any:
    """YAML node -> plain data, remembering the line of every key path."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader("").construct_object(key_node)
            if not isinstance(key, str):
                raise ConfigError(
                    "keys must be strings", file=file, key_path=path, line=key_node.start_mark.line + 1
                )
            sub = join(path, key)
            if key in out:
                raise ConfigError("duplicate key", file=file, key_path=sub, line=key_node.start_mark.line + 1)
            out[key] = plain_data(value_node, sub, lines, file)
            lines[sub] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [plain_data(v, f"{path}[{i}]", lines, file) for i, v in enumerate(node.value)]
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node)
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid value: {exc}", file=file, key_path=path, line=lines[path]) from None


def build(cls: type[T], data: Any, path: str = "", source: Source | None = None) -> T:
    """``cls`` built from plain ``data`` found at ``path``; every mistake is a located ConfigError."""
    src = source if source is not None else Source()
    if not isinstance(data, Mapping):
        raise src.error(f"expected a mapping, got {_kind(data)}", path)
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    known = {f.name: f for f in fields if f.init}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        sub = join(path, str(key))
        if key not in known:
            hint = ", ".join(sorted(known))
            guess = did_you_mean(str(key), known)
            raise src.error(f"unknown key '{key}'{guess} (known keys: {hint})", sub)
        kwargs[key] = _convert(hints[key], value, sub, src)
    missing = [
        name
        for name, f in known.items()
        if name not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise src.error(f"missing required key '{missing[0]}'", path)
    try:
        made = cls(**kwargs)
    except ConfigError as exc:
        raise src.error(exc.message, join(path, exc.key_path) if exc.key_path else path) from None
    if any(f.name == "origin" and not f.init for f in fields):
        object.__setattr__(made, "origin", Origin(src, path))
    return made


def _convert(tp: Any, value: Any, path: str, src: Source) -> Any:
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        real = [a for a in args if a is not type(None)]
        return _convert(real[0] if len(real) == 1 else Any, value, path, src)
    if tp is Any:
        return value
    if origin is Literal:
        if value not in args:
            choices = " | ".join(str(a) for a in args)
            raise src.error(f"expected one of {choices}, got {value!r}", path)
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise src.error(f"expected a list, got {_kind(value)}", path)
        item = args[0]
        return tuple(_convert(item, v, f"{path}[{i}]", src) for i, v in enumerate(value))
    if origin in (Mapping, dict) or tp is dict:
        if not isinstance(value, Mapping):
            raise src.error(f"expected a mapping, got {_kind(value)}", path)
        return dict(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        return build(tp, value, path, src)
    if tp is bool:
        if not isinstance(value, bool):
            raise src.error(f"expected true or false, got {_kind(value)}", path)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise src.error(f"expected an integer, got {_kind(value)}", path)
        return value
    if tp is str:
        if not isinstance(value, str):
            raise src.error(f"expected a string, got {_kind(value)}", path)
        return value
    raise src.error(f"unsupported type {tp!r}", path)  # pragma: no cover - model bug


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


# --- JSON Schema of a model -----------------------------------------------------------------


def json_schema(
    cls: type,
    defs: dict[str, Any],
    *,
    ref: str = "#/$defs/",
    field_types: Mapping[tuple[type, str], Any] | None = None,
    comment_docs: bool = False,
) -> dict[str, Any]:
    """The JSON Schema of the keys :func:`build` accepts for ``cls`` (nested models go to ``defs``).

        A field's description is its ``metadata["doc"]``, or with ``comment_docs`` the ``#:`` comment
        above it; ``field_types`` replaces the type of ``(class, field)`` pairs, also in nested models
    (a mapping that holds a model).
    """
    hints = typing.get_type_hints(cls)
    docs = _comment_docs(cls) if comment_docs else {}
    props: dict[str, Any] = {}
    required = []
    for f in dataclasses.fields(cls):
        if not f.init:  # not a key (the config's ``origin``)
            continue
        tp = (field_types or {}).get((cls, f.name), hints[f.name])
        prop = _type_schema(tp, defs, _Style(ref, field_types or {}, comment_docs))
        doc = f.metadata.get("doc") or docs.get(f.name)
        if doc:
            prop = {**prop, "description": doc}
        if f.default is not dataclasses.MISSING and f.default is not None:
            prop["default"] = list(f.default) if isinstance(f.default, tuple) else f.default
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
        props[f.name] = prop
    out: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": props}
    if cls.__doc__:
        out["description"] = cls.__doc__.strip().splitlines()[0]
    if required:
        out["required"] = required
    return out


@dataclass(frozen=True, slots=True)
class _Style:
    ref: str
    field_types: Mapping[tuple[type, str], Any]
    comment_docs: bool


def _type_schema(tp: Any, defs: dict[str, Any], style: _Style) -> dict[str, Any]:
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        inner = _type_schema(real[0], defs, style) if len(real) == 1 else {}
        return {"anyOf": [inner, {"type": "null"}]} if inner and type(None) in args else inner
    if origin is Literal:
        # sorted: typing caches `Literal[...] | None` by value set, so another module's Literal with
        # the same values in another order (the MCP SDK's auth methods) would reorder ours
        return {"enum": sorted(args, key=str)}
    if origin is tuple:
        return {"type": "array", "items": _type_schema(args[0], defs, style)}
    if origin in (Mapping, dict) or tp is dict:
        return {"type": "object"}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if tp.__name__ not in defs:
            defs[tp.__name__] = {}
            defs[tp.__name__] = json_schema(
                tp, defs, ref=style.ref, field_types=style.field_types, comment_docs=style.comment_docs
            )
        return {"$ref": f"{style.ref}{tp.__name__}"}
    simple = {str: "string", int: "integer", bool: "boolean", float: "number"}
    return {"type": simple[tp]} if tp in simple else {}


_FIELD = re.compile(r"^\s+(\w+)\s*:")


def _comment_docs(cls: type) -> dict[str, str]:
    """Field name -> the ``#:`` comment lines right above it in the class body."""
    try:
        lines = inspect.getsource(cls).splitlines()
    except (OSError, TypeError):  # pragma: no cover - no source (frozen app)
        return {}
    docs: dict[str, str] = {}
    pending: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#:"):
            pending.append(stripped[2:].strip())
            continue
        match = _FIELD.match(line)
        if match and pending:
            docs[match.group(1)] = " ".join(pending)
        pending = []
    return docs
