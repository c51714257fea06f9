"""Typed configs: ``--set key=value`` parsed with ``ast.literal_eval`` and checked against
the dataclass field it targets."""

from __future__ import annotations

import ast
import dataclasses
import types
import typing
from typing import Any

from benchmarks.errors import UserError, close_matches


def parse_assignments(assignments: list[str]) -> dict[str, Any]:
    """Parse ``["lr=0.1", "name=adam", "layers=(64, 64)"]`` into values.

    A value that is not a Python literal is taken as a plain string, so ``name=adam`` works.

    >>> parse_assignments(["lr=1e-3", "name=adam"])
    {'lr': 0.001, 'name': 'adam'}
    """
    values: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"--set {assignment!r}: expected key=value, for example --set lr=0.01")
        try:
            values[key] = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError):
            values[key] = raw.strip()
    return values


def _check_type(value: Any, annotation: Any) -> Any:
    """Return ``value`` converted to ``annotation`` where that is lossless; raise TypeError otherwise."""
    if annotation is Any:
        return value
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            try:
                return _check_type(value, arg)
            except TypeError:
                continue
        raise TypeError
    if annotation is type(None):
        if value is None:
            return None
        raise TypeError
    if origin is typing.Literal:
        if value in args:
            return value
        raise TypeError
    if origin in (tuple, list):
        if not isinstance(value, (tuple, list)):
            raise TypeError
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple(_check_type(v, args[0]) for v in value)
        if origin is tuple and args:
            if len(args) != len(value):
                raise TypeError
            return tuple(_check_type(v, a) for v, a in zip(value, args))
        inner = args[0] if args else Any
        converted = [_check_type(v, inner) for v in value]
        return tuple(converted) if origin is tuple else converted
    if origin is dict:
        if not isinstance(value, dict):
            raise TypeError
        return value
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if annotation is bool and not isinstance(value, bool):
        raise TypeError
    if annotation in (int, float) and isinstance(value, bool):
        raise TypeError
    if isinstance(annotation, type) and not isinstance(value, annotation):
        raise TypeError
    return value


def field_types(config_class: type) -> dict[str, Any]:
    hints = typing.get_type_hints(config_class)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(config_class)}


def build_config(config_class: type, values: dict[str, Any], owner: str) -> Any:
    """Instantiate ``config_class`` with ``values`` checked against its field types.

    Raises:
        UserError: an unknown field (with close matches) or a value of the wrong type.
    """
    types = field_types(config_class)
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if key not in types:
            close = close_matches(key, list(types))
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            known = ", ".join(types) or "none"
            raise UserError(f"{owner} has no option {key!r}{hint} (options: {known})")
        try:
            checked[key] = _check_type(value, types[key])
        except TypeError:
            expected = getattr(types[key], "__name__", str(types[key]))
            raise UserError(
                f"{owner} option {key!r}: expected {expected}, got {value!r} ({type(value).__name__})"
            ) from None
    return config_class(**checked)


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-able dict of a dataclass config."""
    if dataclasses.is_dataclass(config):
        return {f.name: _jsonable(getattr(config, f.name)) for f in dataclasses.fields(config)}
    return {}


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, (list,)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
