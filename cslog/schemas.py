"""The only place that knows the JSON Schemas: where they and the templates live, key order, which fields hold
enums and times, and validation.

Validation runs in two steps: a compiled validator (fastjsonschema: ~60 µs a ticket, where jsonschema takes
~1.2 ms) says whether a document is valid; only for a document that is not, jsonschema, the reference
implementation, says everything that is wrong, in words a person can act on. Both read the same schema
files. Besides the schema, every timestamp must be a real moment (the pattern admits 2026-11-31).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

_PACKAGE = Path(__file__).resolve().parent

SCHEMA_FILES = {"ticket": "ticket.schema.json", "contact": "contact.schema.json",
                "customer": "customer.schema.json", "action": "action.schema.json", "config": "config.schema.json"}
TIMESTAMP = "#/$defs/timestamp"


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


def _walk(kind: str) -> Iterator[tuple[tuple, dict]]:
    """(path, node as written, before $ref is followed) of every node under properties and items; '*' stands
    for the items of a list."""
    root = schema(kind)
    stack: list[tuple[tuple, dict, int]] = [((), root, 0)]
    while stack:
        path, node, depth = stack.pop()
        yield path, node
        node = _resolve(root, node)
        if depth > 8:
            continue
        for key, sub in (node.get("properties") or {}).items():
            stack.append((path + (key,), sub, depth + 1))
        if isinstance(node.get("items"), dict):
            stack.append((path + ("*",), node["items"], depth + 1))


@lru_cache(maxsize=None)
def _orders(kind: str) -> dict[tuple, list[str]]:
    """Property order of every object in the schema, keyed by path ('*' for list items)."""
    root = schema(kind)
    return {path: list(_resolve(root, node)["properties"]) for path, node in _walk(kind)
            if "properties" in _resolve(root, node)}


def key_order(kind: str) -> Callable[[tuple], list[str] | None]:
    orders = _orders(kind)
    return lambda path: orders.get(path)


def fields(kind: str) -> list[str]:
    """The top-level fields of a record kind, in the order files list them."""
    return list(schema(kind)["properties"])


@lru_cache(maxsize=None)
def enum_fields(kind: str) -> tuple[tuple[tuple, str], ...]:
    """(path, $defs name) of every field holding a value of a named enum (#/$defs/priority...)."""
    return tuple(sorted((path, node["$ref"].rsplit("/", 1)[1]) for path, node in _walk(kind)
                        if isinstance(node.get("$ref"), str) and node["$ref"] != TIMESTAMP
                        and "enum" in _resolve(schema(kind), node)))


@lru_cache(maxsize=None)
def timestamp_fields(kind: str) -> tuple[tuple, ...]:
    """The paths of every timestamp field."""
    return tuple(sorted(path for path, node in _walk(kind) if node.get("$ref") == TIMESTAMP))


def values_at(doc: Any, path: tuple) -> list[tuple[tuple, Any]]:
    """(concrete path, value) of what a document holds at a schema path ('*': every item of a list)."""
    found: list[tuple[tuple, Any]] = [((), doc)]
    for step in path:
        deeper: list[tuple[tuple, Any]] = []
        for at, value in found:
            if step == "*":
                if type(value) is list:
                    deeper += [(at + (i,), item) for i, item in enumerate(value)]
            elif type(value) is dict and step in value:
                deeper.append((at + (step,), value[step]))
        found = deeper
        if not found:
            break
    return found


def modeline(kind: str) -> str:
    """First line of every record file: editors complete and check fields with it."""
    from cslog.model import SHARDED

    depth = "../../../" if kind in SHARDED else "../"
    return f"# yaml-language-server: $schema={depth}schemas/{SCHEMA_FILES[kind]}\n"


# -- validation ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _compiled(kind: str) -> Callable[[Any], Any]:
    import copy

    import fastjsonschema

    # (a copy: fastjsonschema writes into the schema it compiles)
    return fastjsonschema.compile(copy.deepcopy(schema(kind)), use_default=False, use_formats=False,
                                  detailed_exceptions=False)


def is_valid(doc: Any, kind: str) -> bool:
    """Whether validate() would find nothing, at a fraction of its cost."""
    from fastjsonschema import JsonSchemaException

    try:
        _compiled(kind)(doc)
    except JsonSchemaException:
        return False
    return not _bad_times(doc, kind)


@lru_cache(maxsize=None)
def validator(kind: str):
    import jsonschema  # costly import: only documents that fail pay for it

    return jsonschema.Draft202012Validator(schema(kind))


def validate(doc: Any, kind: str) -> list[tuple[tuple, str]]:
    """Everything wrong with a document, as (JSON path, message), in document order."""
    errors = []
    for err in validator(kind).iter_errors(doc):
        path = tuple(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            known = list(err.schema.get("properties", {}))
            for extra in [k for k in err.instance if k not in known]:
                errors.append((path + (extra,), _unknown_field(path, extra, known)))
            continue
        errors.append((path, _message(err, path)))
    if kind != "config":
        flagged = {path for path, _m in errors}
        errors += [problem for problem in _bad_times(doc, kind) if problem[0] not in flagged]
    errors.sort(key=lambda e: [str(p) for p in e[0]])
    return errors


def _bad_times(doc: Any, kind: str) -> list[tuple[tuple, str]]:
    """Timestamps the pattern admits that name no real moment (2026-11-31, 24:30)."""
    from cslog.timeutil import instant, zone

    utc = zone("UTC")
    found = []
    for field_path in timestamp_fields(kind):
        for path, value in values_at(doc, field_path):
            if isinstance(value, str):
                try:
                    instant(value, utc)
                except ValueError as exc:
                    found.append((path, f"{'.'.join(map(str, path))}: {exc}"))
    return found


def _message(err, path: tuple) -> str:
    where = ".".join(str(p) for p in path) or "record"
    if err.validator == "enum":
        allowed = ", ".join(str(v) for v in err.validator_value)
        return f"{where}: {err.instance!r} is not allowed; use one of: {allowed}"
    if err.validator == "required":
        return f"{where}: {err.message.replace(' is a required property', '')} is required but missing"
    if err.validator == "pattern" and "ISO 8601" in str(err.schema.get("description", "")):
        return f"{where}: {err.instance!r} is not a time; write it as '2026-11-22T14:30:00+08:00'"
    if err.validator == "pattern" and "one line" in str(err.schema.get("description", "")):
        return f"{where}: {err.instance!r} holds a line break; it is one line"
    return f"{where}: {err.message}"


def _unknown_field(path: tuple, key: str, known: list[str]) -> str:
    import difflib

    where = ".".join(str(p) for p in path + (key,))
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"known fields: {', '.join(known)}"
    return f"{where}: unknown field ({hint})"
