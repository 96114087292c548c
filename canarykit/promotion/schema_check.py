"""A small JSON Schema validator for the subset the shipped schemas use.

Supported keywords: ``type`` (one or a list), ``const``, ``enum``, ``required``,
``properties``, ``additionalProperties`` (boolean), ``items``, ``minItems``, ``minLength``,
``pattern`` and ``format: date-time``. Any other keyword in a schema is an error, so the
validator never silently ignores a rule. Every violation is collected with its path.

Examples
--------
>>> schema = {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"},
...           "b": {"enum": ["x"]}}, "additionalProperties": False}
>>> validate({"a": "1", "b": "y", "c": 0}, schema)
["a: '1' is not of type integer", "b: 'y' is not one of ['x']", 'c: unexpected property']
>>> validate({"a": 1}, schema)
[]
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError

__all__ = ["SCHEMA_DIR", "load_schema", "validate", "validate_or_raise"]

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
_KNOWN = {
    "$schema",
    "$id",
    "title",
    "description",
    "type",
    "const",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "minItems",
    "minLength",
    "pattern",
    "format",
}
_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, Mapping),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


@lru_cache(maxsize=8)
def load_schema(name: str) -> dict[str, Any]:
    """A shipped schema by file name (e.g. ``release_manifest.schema.json``)."""
    data: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return data


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def validate(instance: Any, schema: Mapping[str, Any], path: str = "") -> list[str]:
    """Every violation of ``schema`` by ``instance``, as ``"path: problem"`` strings."""
    errors: list[str] = []
    where = path or "(root)"
    unknown = set(schema) - _KNOWN
    if unknown:
        return [f"{where}: schema uses unsupported keywords {sorted(unknown)}"]
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](instance) for t in types):
            return [f"{where}: {instance!r} is not of type {' or '.join(types)}"]
    if "const" in schema and instance != schema["const"]:
        errors.append(f"{where}: {instance!r} is not {schema['const']!r}")
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{where}: {instance!r} is not one of {schema['enum']}")
    if isinstance(instance, str):
        if len(instance) < schema.get("minLength", 0):
            errors.append(f"{where}: shorter than {schema['minLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            errors.append(f"{where}: {instance!r} does not match {schema['pattern']}")
        if schema.get("format") == "date-time":
            try:
                moment = datetime.fromisoformat(instance)
            except ValueError:
                moment = None
            if moment is None or moment.tzinfo is None:
                errors.append(f"{where}: {instance!r} is not an RFC 3339 date-time")
    if isinstance(instance, list):
        if len(instance) < schema.get("minItems", 0):
            errors.append(f"{where}: needs at least {schema['minItems']} items")
        if "items" in schema:
            for index, item in enumerate(instance):
                errors += validate(item, schema["items"], _join(path, index))
    if isinstance(instance, Mapping):
        for key in schema.get("required", []):
            if key not in instance:
                errors.append(f"{_join(path, key)}: required")
        properties = schema.get("properties", {})
        for key, value in instance.items():
            if key in properties:
                errors += validate(value, properties[key], _join(path, key))
            elif schema.get("additionalProperties", True) is False:
                errors.append(f"{_join(path, key)}: unexpected property")
    return errors


def validate_or_raise(instance: Any, schema_name: str, *, what: str) -> None:
    """Validate against a shipped schema; raise every violation together.

    Raises
    ------
    InvalidInputError
        Listing each ``path: problem``.
    """
    errors = validate(instance, load_schema(schema_name))
    if errors:
        raise InvalidInputError(f"{what}: " + "; ".join(errors))
