"""The only YAML reader and writer: safe loading, canonical order, line-preserving updates, atomic writes.

Reading: a record file is plain YAML (mappings, lists, plain or quoted scalars), which a loader built on
libyaml's events reads at about half the cost of PyYAML's constructors; anything outside that plain subset
(tags, anchors, merge keys, errors) goes to the full safe loader, which makes the same values and says what
is wrong, with its line. Timestamps stay strings (JSON Schema sees JSON); a key given twice is an error.
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any, Callable

import yaml

from cslog.errors import OperationalError, UsageError

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe (no object tags) and JSON-like: timestamps and dates stay strings, as JSON Schema expects."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
# JSON has no bytes, sets, dates or ordered pairs: explicit !!binary, !!set, !!timestamp, !!omap and
# !!pairs are refused like object tags, so every value a command meets can be printed as JSON.
_NOT_JSON = {f"tag:yaml.org,2002:{name}" for name in ("binary", "set", "timestamp", "omap", "pairs")}
Loader.yaml_constructors = {tag: fn for tag, fn in _Base.yaml_constructors.items() if tag not in _NOT_JSON}


class _BadValue(yaml.MarkedYAMLError):
    """A scalar its explicit tag cannot read (`!!int` with no digits): PyYAML raises IndexError for it."""


def _strict(construct):
    def strict(loader, node):
        try:
            return construct(loader, node)
        except (ValueError, IndexError, KeyError, TypeError, OverflowError):
            raise _BadValue(problem=f"{node.value!r} is not a valid !!{node.tag.rsplit(':', 1)[-1]}",
                            problem_mark=node.start_mark) from None
    return strict


for _name in ("null", "bool", "int", "float", "str"):
    _tag = f"tag:yaml.org,2002:{_name}"
    Loader.yaml_constructors[_tag] = _strict(Loader.yaml_constructors[_tag])


class _DuplicateKey(yaml.MarkedYAMLError):
    """A key given twice in one mapping (what a conflict resolved by hand often leaves): the last would win."""


def _construct_mapping(loader, node, deep=False):
    seen: dict[tuple, int] = {}
    for key_node, _value in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise _DuplicateKey(problem=f"duplicate key '{key_node.value}' (also on line {seen[key]}): "
                                            "keep one of them", problem_mark=key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
    return Loader.construct_mapping(loader, node, deep)


def _construct_yaml_map(loader, node):
    data: dict = {}
    yield data
    data.update(_construct_mapping(loader, node))


Loader.yaml_constructors["tag:yaml.org,2002:map"] = _construct_yaml_map

MAX_DEPTH = 64  # records are a few levels deep; deeper documents only exhaust the recursion of readers


class YamlSyntaxError(ValueError):
    """The text is not YAML (or uses a tag cslog refuses); carries the 1-based line."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


def load_text(text: str) -> Any:
    """The document in a YAML text (plain data only); YamlSyntaxError with the line otherwise."""
    try:
        return _load_plain(text)
    except _Fallback:
        return _load_full(text)


def _load_full(text: str) -> Any:
    try:
        data = yaml.load(text, Loader=Loader)  # noqa: S506 - Loader is a SafeLoader subclass
    except _DuplicateKey as exc:
        raise YamlSyntaxError(f"YAML error: {exc.problem}", exc.problem_mark.line + 1) from None
    except RecursionError:
        raise YamlSyntaxError(f"YAML nested too deeply (cslog files are at most {MAX_DEPTH} levels deep)",
                              None) from None
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise YamlSyntaxError(f"refused YAML tag: {exc.problem} (cslog reads plain YAML only)",
                              mark.line + 1 if mark else None) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise YamlSyntaxError(f"YAML syntax error: {what}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"YAML error: {exc}", None) from None
    _check_tree(data)
    return data


# --- the plain subset, read from libyaml's events -------------------------------------------------------

class _Fallback(Exception):
    """Not plain YAML as cslog writes it: the full loader reads it (or says what is wrong)."""


_NO_KEY = object()
_PLAIN_CACHE: dict[str, Any] = {}  # short plain scalars (keys, codes, names) as resolved: immutable values
_RESOLVE: tuple | None = None


def _plain(value: str) -> Any:
    """A plain scalar as Loader resolves it (timestamps stay strings)."""
    global _RESOLVE
    if _RESOLVE is None:
        loader = Loader("")
        build = {tag: fn.__get__(loader) for tag, fn in Loader.yaml_constructors.items()
                 if tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                            "tag:yaml.org,2002:float")}
        _RESOLVE = Loader.yaml_implicit_resolvers, build
    table, build = _RESOLVE
    resolvers = table.get(value[0] if value else "")
    wild = table.get(None)
    if not resolvers and not wild:
        return value
    for tag, rx in (resolvers or []) + (wild or []):
        if rx.match(value):
            if tag == "tag:yaml.org,2002:str":
                return value
            fn = build.get(tag)
            if fn is None:
                raise _Fallback  # merge keys, `=`, anything the plain subset leaves to the full loader
            return fn(yaml.ScalarNode(tag, value))
    return value


def _load_plain(text: str) -> Any:
    try:
        from yaml._yaml import CParser
    except ImportError:  # PyYAML without libyaml
        raise _Fallback from None
    scalar_t, map_t, seq_t = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
    map_end, seq_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    cache = _PLAIN_CACHE
    try:
        parser = CParser(text)
        get = parser.get_event
        if type(get()) is not yaml.StreamStartEvent:
            raise _Fallback
        event = get()
        if type(event) is yaml.StreamEndEvent:
            return None
        if type(event) is not yaml.DocumentStartEvent:
            raise _Fallback
        stack: list = []  # open containers: [container, pending key or _NO_KEY]
        while True:
            event = get()
            kind = type(event)
            if kind is scalar_t:
                if event.anchor is not None or event.tag is not None:
                    raise _Fallback
                value = event.value
                if event.implicit[0]:
                    known = cache.get(value, _NO_KEY)
                    if known is _NO_KEY:
                        known = _plain(value)
                        if len(value) < 24 and len(cache) < 8192:
                            cache[value] = known
                    value = known
            elif kind is map_t or kind is seq_t:
                if event.anchor is not None or event.tag is not None or len(stack) >= MAX_DEPTH:
                    raise _Fallback
                stack.append([{} if kind is map_t else [], _NO_KEY])
                continue
            elif kind is map_end or kind is seq_end:
                value = stack.pop()[0]
            else:
                raise _Fallback  # aliases, anything unexpected
            if not stack:
                break
            top = stack[-1]
            container = top[0]
            if type(container) is list:
                container.append(value)
            elif top[1] is _NO_KEY:
                if type(value) is dict or type(value) is list or value in container:
                    raise _Fallback  # complex or duplicate keys: the full loader says what is wrong
                top[1] = value
            else:
                container[top[1]] = value
                top[1] = _NO_KEY
        if type(get()) is not yaml.DocumentEndEvent or type(get()) is not yaml.StreamEndEvent:
            raise _Fallback
        return value
    except yaml.YAMLError:
        raise _Fallback from None
    except (TypeError, RecursionError):
        raise _Fallback from None  # an unhashable key, or anything odd: the full loader says what it is


def _check_tree(data: Any) -> None:
    """Refuse a list or mapping reached twice (an alias `*a`: cycles and exponential blow-ups) or nested too
    deeply, so that whatever walks a document later ends, and soon."""
    seen: set[int] = set()
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, (dict, list)):
            continue
        if id(value) in seen:
            raise YamlSyntaxError("YAML alias (*name) of a list or mapping: write the value out in full", None)
        if depth > MAX_DEPTH:
            raise YamlSyntaxError(f"YAML nested too deeply (cslog files are at most {MAX_DEPTH} levels deep)",
                                  None)
        seen.add(id(value))
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children)


def line_of(text: str, path: tuple) -> int | None:
    """The 1-based line of the YAML node at a JSON path (keys and indexes); the deepest existing node."""
    try:
        node = yaml.compose(text, Loader=Loader)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for step in path:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            for key, value in node.value:
                if key.value == step:
                    line = key.start_mark.line + 1
                    node = value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line
    return line


# --- canonical writing -------------------------------------------------------------------------

class _Dumper(yaml.SafeDumper):
    """Block style, 2-space indented sequences, Chinese as is, literal blocks for multi-line text."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


_SURROGATE = re.compile("[\ud800-\udfff]")
_OTHER_BREAKS = re.compile("[\x85\u2028\u2029]")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if _SURROGATE.search(value):
        # bytes that were not UTF-8 (a terminal in GBK): YAML would write "\uDCFF", which no reader accepts
        shown = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace") if value else value
        raise UsageError(f"{shown!r} holds bytes that are not UTF-8 text",
                         hint="set the terminal to UTF-8 (e.g. LANG=zh_CN.UTF-8, or chcp 65001 on Windows) "
                              "and type it again")
    if _OTHER_BREAKS.search(value) or value.endswith("\n\n") or value == "\n":
        # YAML 1.1 also breaks lines at NEL, LS and PS: unquoted or single-quoted they read back as a space.
        # Trailing blank lines need a `|+` block, after which PyYAML ends the document with `...`: a later
        # update would append the next timeline entry after it, and the file would no longer load.
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


OrderFn = Callable[[tuple], list[str] | None]


def canonical(value: Any, order: OrderFn, path: tuple = ()) -> Any:
    """Keys in schema order (unknown keys last, as found), empty optional values dropped; recursive."""
    if isinstance(value, dict):
        wanted = order(path) or []
        keys = [k for k in wanted if k in value] + [k for k in value if k not in wanted]
        out = {}
        for key in keys:
            item = canonical(value[key], order, path + (key,))
            if not is_empty(item):
                out[key] = item
        return out
    if isinstance(value, list):
        return [canonical(item, order, path + ("*",)) for item in value]
    return value


def dump_value(data: dict) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=100000, indent=2)


def render(doc: dict, order: OrderFn, header: str = "") -> str:
    """The whole file in canonical form."""
    body = dump_value(canonical(doc, order)) if doc else ""
    return header + body


_TOP_KEY = re.compile(r"^([^\s#'\"\-][^:]*?|'[^']*'|\"[^\"]*\"):(\s|$)")


def _split_blocks(text: str) -> tuple[str, list[tuple[str, str]]] | None:
    """Split a file into its header (comments before the first key) and one text block per top-level key."""
    header: list[str] = []
    blocks: list[tuple[str, list[str]]] = []
    for line in text.splitlines(keepends=True):
        m = _TOP_KEY.match(line)
        if m:
            key = m.group(1).strip("'\"")
            blocks.append((key, [line]))
        elif blocks:
            blocks[-1][1].append(line)
        elif line.strip() == "" or line.startswith("#") or line.startswith("---"):
            header.append(line)
        else:
            return None
    return "".join(header), [(k, "".join(lines)) for k, lines in blocks]


def update_text(old_text: str, old_doc: dict, new_doc: dict, order: OrderFn, header: str) -> str:
    """New file text that keeps every unchanged top-level field's lines as they were.

    A changed field is re-rendered in place; a new field goes where the schema order puts it; entries
    appended to a list (the timeline) are added after the existing ones without touching them.
    """
    split = _split_blocks(old_text)
    new = canonical(new_doc, order)
    if split is None:
        return render(new_doc, order, header)
    old_header, blocks = split
    keys_in_file = [k for k, _ in blocks]
    if len(set(keys_in_file)) != len(keys_in_file):
        return render(new_doc, order, header)
    old = canonical(old_doc, order)
    out: list[tuple[str, str]] = []
    for key, block in blocks:
        if key not in new:
            continue
        if old.get(key) == new[key]:
            out.append((key, block if block.endswith("\n") else block + "\n"))
            continue
        out.append((key, _render_changed(key, block, old.get(key), new[key])))
    placed = {k for k, _ in out}
    canonical_keys = list(new)
    for key in canonical_keys:
        if key in placed:
            continue
        text = dump_value({key: new[key]})
        earlier = canonical_keys[: canonical_keys.index(key)]
        position = 0
        for i, (k, _) in enumerate(out):
            if k in earlier:
                position = i + 1
        out.insert(position, (key, text))
        placed.add(key)
    return (old_header or header) + "".join(text for _, text in out)


def _render_changed(key: str, old_block: str, old_value: Any, new_value: Any) -> str:
    appended = (isinstance(old_value, list) and isinstance(new_value, list) and old_value
                and len(new_value) > len(old_value) and new_value[: len(old_value)] == old_value)
    if appended:
        lines = old_block.splitlines(keepends=True)
        # Appending is only safe when the existing items are indented the way we write them.
        if len(lines) > 1 and lines[1].startswith("  - "):
            trailing = ""
            while lines and lines[-1].strip() == "":
                trailing = lines.pop() + trailing
            body = "".join(lines)
            if not body.endswith("\n"):
                body += "\n"
            extra = dump_value({key: new_value[len(old_value):]}).split("\n", 1)[1]
            return body + extra + trailing
    return dump_value({key: new_value})


# --- files -------------------------------------------------------------------------------------

def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


TEMP_SUFFIX = ".cslog-tmp"


def _write_temp(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    data = text.encode("utf-8")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise OperationalError(f"cannot write {path}: {exc.strerror}") from exc
    return tmp


def write_atomic(path: Path, text: str) -> None:
    """Replace (or create) a file so that a crash leaves the old content or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _write_temp(path, text)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OperationalError(f"cannot write {path}: {exc.strerror}") from exc
    _fsync_dir(path.parent)


def create_exclusive(path: Path, text: str) -> bool:
    """Create a file that must not exist yet, complete or not at all. False when it already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _write_temp(path, text)
    try:
        os.link(tmp, path)  # like O_EXCL, but the file appears with its whole content at once
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (1, 38, 95):  # EPERM/ENOSYS/EOPNOTSUPP: a filesystem without hard links
            raise OperationalError(f"cannot create {path}: {exc.strerror}") from exc
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        return True
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return True


def read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise OperationalError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start})",
                         hint="save the file as UTF-8") from None
    return text[1:] if text.startswith("\ufeff") else text
