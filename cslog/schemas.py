"""The only place that knows where the JSON Schemas and templates live; key order and validation."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent

SCHEMA_FILES = {"ticket": "ticket.schema.json", "contact": "contact.schema.json",
                "customer": "customer.schema.json", "config": "config.schema.json"}


def _shipped(name: str) -> Path:
    """Inside an installed wheel the folder sits in the package; in a source checkout, beside it."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cslog installation is incomplete: no {name}/ folder near {_PACKAGE}")


def schema_dir() -> Path:
    return _shipped("schemas")


def template_dir() -> Path:
    return _shipped("templates")


@lru_cache(maxsize=None)
def schema(kind: str) -> dict:
    with open(schema_dir() / SCHEMA_FILES[kind], encoding="utf-8") as f:
        return json.load(f)


def _resolve(root: dict, node: dict) -> dict:
    while "$ref" in node and node["$ref"].startswith("#/"):
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


@lru_cache(maxsize=None)
def _orders(kind: str) -> dict[tuple, list[str]]:
    """Property order of every object in the schema, keyed by path ('*' for list items)."""
    root = schema(kind)
    out: dict[tuple, list[str]] = {}

    def walk(node: dict, path: tuple, depth: int) -> None:
        node = _resolve(root, node)
        if depth > 6:
            return
        if "properties" in node:
            out[path] = list(node["properties"])
            for key, sub in node["properties"].items():
                walk(sub, path + (key,), depth + 1)
        if "items" in node and isinstance(node["items"], dict):
            walk(node["items"], path + ("*",), depth + 1)

    walk(root, (), 0)
    return out


def key_order(kind: str):
    orders = _orders(kind)
    return lambda path: orders.get(path)


def modeline(kind: str) -> str:
    """First line of every record file: editors complete and check fields with it."""
    depth = "../../../" if kind in ("ticket", "contact") else "../"
    return f"# yaml-language-server: $schema={depth}schemas/{SCHEMA_FILES[kind]}\n"


@lru_cache(maxsize=None)
def validator(kind: str):
    import jsonschema  # costly import: only commands that validate pay for it

    return jsonschema.Draft202012Validator(schema(kind))


def validate(doc: Any, kind: str) -> list[tuple[tuple, str]]:
    """Schema errors as (JSON path, message), in document order."""
    errors = []
    for err in validator(kind).iter_errors(doc):
        path = tuple(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            known = list(err.schema.get("properties", {}))
            for extra in [k for k in err.instance if k not in known]:
                errors.append((path + (extra,), _unknown_field(path, extra, known)))
            continue
        errors.append((path, _message(err, path)))
    errors.sort(key=lambda e: [str(p) for p in e[0]])
    return errors


_JSON_TYPES = {"object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,), "null": (type(None),),
               "integer": (int,), "number": (int, float)}


def _has_type(value: Any, expected: Any) -> bool:
    for name in expected if isinstance(expected, list) else [expected]:
        if isinstance(value, bool) and name in ("integer", "number"):
            continue
        if isinstance(value, _JSON_TYPES.get(name, (object,))):
            return True
    return False


def shape_problems(doc: Any, kind: str) -> list[tuple[tuple, str]]:
    """Where a document holds the wrong JSON type (a list for a status, a number for a timeline...).

    Cheap and without jsonschema, for readers: code that walks a record may trust the shape of what it
    finds. Enum values, patterns and required fields are left to `cslog check`."""
    root = schema(kind)
    found = []
    stack: list[tuple[dict, Any, tuple]] = [(root, doc, ())]
    while stack:
        node, value, path = stack.pop()
        node = _resolve(root, node)
        expected = node.get("type") or sorted({type(v).__name__.replace("str", "string") for v in node.get("enum", [])})
        if expected and not _has_type(value, expected):
            where = ".".join(str(p) for p in path) or "record"
            wanted = expected if isinstance(expected, str) else " or ".join(expected)
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:39] + "…"
            found.append((path, f"{where}: {shown} is not of type {wanted}"))
            continue
        if isinstance(value, dict):
            for key in value:
                if not isinstance(key, str):
                    found.append((path, f"{'.'.join(str(p) for p in path + (key,))}: a field name must be text"))
            for key, sub in (node.get("properties") or {}).items():
                if key in value:
                    stack.append((sub, value[key], path + (key,)))
        elif isinstance(value, list) and isinstance(node.get("items"), dict):
            stack.extend((node["items"], item, path + (i,)) for i, item in enumerate(value))
    return sorted(found, key=lambda p: [str(x) for x in p[0]])


def _message(err, path: tuple) -> str:
    where = ".".join(str(p) for p in path) or "record"
    if err.validator == "enum":
        allowed = ", ".join(str(v) for v in err.validator_value)
        return f"{where}: {err.instance!r} is not allowed; use one of: {allowed}"
    if err.validator == "required":
        return f"{where}: {err.message.replace(' is a required property', '')} is required but missing"
    if err.validator == "pattern" and "ISO 8601" in str(err.schema.get("description", "")):
        return f"{where}: {err.instance!r} is not a time; write it as '2026-11-22T14:30:00+08:00'"
    return f"{where}: {err.message}"


def _unknown_field(path: tuple, key: str, known: list[str]) -> str:
    import difflib

    where = ".".join(str(p) for p in path + (key,))
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(known)}"
    return f"{where}: unknown field ({hint})"
