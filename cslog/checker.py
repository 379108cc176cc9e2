"""`cslog check`: every problem of every record file, as values with file and line (load → check → report)."""
from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from cslog import config as config_mod
from cslog import gitrepo, privacy, schemas
from cslog.errors import Problem, UsageError
from cslog.ids import is_safe
from cslog.model import KIND_FOLDERS, KINDS, SHARDED, references
from cslog.store import Store, is_temp_file
from cslog.yamlio import YamlSyntaxError, line_of, load_text

_CONFLICT = re.compile(r"^(<{7}|={7}|>{7}|\|{7})( |$)", re.M)


@dataclass
class Loaded:
    """One record file as read: its text and document, or the problem that stopped reading it."""

    kind: str
    path: Path
    rel: str
    text: str = ""
    doc: dict | None = None
    problems: list[Problem] = field(default_factory=list)
    digest: str = ""  # git's blob id of the bytes read (the index keys a clean check by it)


@dataclass
class CheckResult:
    files: int
    problems: list[Problem]
    validated: int = 0  # files whose per-file checks ran (the others passed them before, unchanged)

    @property
    def ok(self) -> bool:
        return not self.problems


def record_files(store: Store, paths: list[str] | None,
                 every: list[tuple[str, Path]] | None = None) -> list[tuple[str, Path]]:
    """(kind, path) of the files to check: all records, or those under the given paths."""
    if every is None:
        every = [(kind, p) for kind in KINDS for p in _all_yaml(store, kind)]
    if not paths:
        return every
    wanted: list[tuple[str, Path]] = []
    for raw in paths:
        target = Path(raw)
        target = (target if target.is_absolute() else Path.cwd() / target).resolve()
        if not target.exists():
            raise UsageError(f"no such file or folder: {raw}")
        if target == store.root / config_mod.CONFIG_FILE:
            continue
        chosen = [(k, p) for k, p in every if p == target or target in p.parents]
        if target.is_file() and not chosen:
            kind = _kind_by_folder(store, target)
            if kind is None:
                raise UsageError(f"{raw} is not a record file of {store.root} (records live in "
                                 f"{', '.join(KIND_FOLDERS.values())})")
            chosen = [(kind, target)]
        wanted.extend(chosen)
    return wanted


def _all_yaml(store: Store, kind: str) -> list[Path]:
    folder = store.root / KIND_FOLDERS[kind]
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and (p.suffix in (".yaml", ".yml") or is_temp_file(p))
                  and p.name != ".gitkeep")


def _kind_by_folder(store: Store, path: Path) -> str | None:
    for kind, folder in KIND_FOLDERS.items():
        if (store.root / folder) in path.parents:
            return kind
    return None


def load_file(store: Store, kind: str, path: Path) -> Loaded:
    rel = store.rel(path)
    item = Loaded(kind=kind, path=path, rel=rel)
    if is_temp_file(path):
        item.problems.append(Problem(rel, 1, "left-over temporary file of an interrupted write; delete it",
                                     code="temp_file"))
        return item
    try:
        raw = path.read_bytes()
        item.digest = gitrepo.blob_id(raw)
        item.text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        item.problems.append(Problem(rel, None, f"not UTF-8 text (byte {exc.start}); save the file as UTF-8",
                                     code="encoding"))
        return item
    except OSError as exc:
        item.problems.append(Problem(rel, None, f"cannot read: {exc.strerror}", code="io"))
        return item
    markers = list(_CONFLICT.finditer(item.text))
    if markers:
        first = item.text.count("\n", 0, markers[0].start()) + 1
        item.problems.append(Problem(rel, first, "git conflict markers: finish the merge (keep one side, or run "
                                     "`cslog sync`)", code="conflict"))
        return item
    try:
        doc = load_text(item.text)
    except YamlSyntaxError as exc:
        item.problems.append(Problem(rel, exc.line, str(exc), code="yaml"))
        return item
    if not isinstance(doc, dict):
        item.problems.append(Problem(rel, 1, "a record must be a mapping of fields (name: value)", code="yaml"))
        return item
    item.doc = doc
    return item


def check_schema(item: Loaded) -> list[Problem]:
    return [Problem(item.rel, line_of(item.text, path), message, code="schema",
                    field=".".join(str(p) for p in path) or None)
            for path, message in schemas.validate(item.doc, item.kind)]


def check_identity(store: Store, item: Loaded) -> list[Problem]:
    """The ID must be safe, match its kind's format, its file name and (for sharded kinds) its month folder."""
    rid = item.doc.get("id")
    line = line_of(item.text, ("id",))
    if not isinstance(rid, str) or not is_safe(rid):
        return [Problem(item.rel, line, f"id {rid!r} is not a valid ID", code="id", field="id")]
    problems = []
    if rid != item.path.stem:
        problems.append(Problem(item.rel, line, f"id {rid} does not match the file name {item.path.name}; rename "
                                f"the file to {rid}.yaml or fix the id", code="id_mismatch", field="id"))
    parsed = store.id_format(item.kind).parse(rid)
    if parsed is None:
        problems.append(Problem(item.rel, line, f"id {rid} does not follow the {item.kind} format "
                                f"{store.settings.ids[item.kind]} of cslog.yaml", code="id_format", field="id"))
    if item.kind in SHARDED:
        month = item.path.parent.name
        year = item.path.parent.parent.name
        if not (re.fullmatch(r"\d{4}", year) and re.fullmatch(r"\d{2}", month)):
            problems.append(Problem(item.rel, 1, f"a {item.kind} belongs in {KIND_FOLDERS[item.kind]}/YYYY/MM/",
                                    code="folder"))
        elif parsed and parsed.day and (f"{parsed.day:%Y}", f"{parsed.day:%m}") != (year, month):
            problems.append(Problem(item.rel, line, f"id {rid} is from {parsed.day:%Y-%m} but the file is in "
                                    f"{year}/{month}; move it to {KIND_FOLDERS[item.kind]}/{parsed.day:%Y/%m}/",
                                    code="folder", field="id"))
    return problems


def check_privacy(item: Loaded) -> list[Problem]:
    if _pii_allowed(item.doc):
        return []
    return [Problem(item.rel, line_of(item.text, path),
                    f"{'.'.join(map(str, path))}: personal data: {f.label} {f.masked}; remove it "
                    "(严禁记录客户敏感信息)", code="pii", field=".".join(map(str, path)))
            for path, f in privacy.scan(item.doc)]


def _pii_allowed(doc: dict) -> bool:
    if doc.get("allow_pii"):
        return True
    timeline = doc.get("timeline")
    return isinstance(timeline, list) and any(isinstance(e, dict) and e.get("allow_pii") for e in timeline)


def check_references(item: Loaded, known: dict[str, set[str]]) -> list[Problem]:
    problems = []
    for field_name, pos, target, ref in references(item.doc, item.kind):
        if ref not in known[target]:
            path = (field_name,) if pos < 0 else (field_name, pos)
            problems.append(Problem(item.rel, line_of(item.text, path), f"{field_name}: {target} {ref} does not exist",
                                    code="reference", field=field_name))
    return problems


def check_config(store: Store) -> list[Problem]:
    return check_config_file(store.root)


def check_config_file(root: Path) -> list[Problem]:
    """Every problem of cslog.yaml; works when the file is too damaged for the repository to open."""
    path = root / config_mod.CONFIG_FILE
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return [Problem(config_mod.CONFIG_FILE, None, "not UTF-8 text; save cslog.yaml as UTF-8", code="config")]
    try:
        data = load_text(text) or {}
    except YamlSyntaxError as exc:
        return [Problem(config_mod.CONFIG_FILE, exc.line, str(exc), code="config")]
    found = config_mod.config_problems(data)
    found += _country_problems(root, data, {p[0] for p, _m in found})
    problems = [Problem(config_mod.CONFIG_FILE, line_of(text, p), m, code="config") for p, m in found]
    problems += [Problem(config_mod.CONFIG_FILE, line_of(text, p), m, code="config")
                 for p, m in schemas.validate(data, "config") if not any(q.line == line_of(text, p) for q in problems)]
    return problems


def _country_problems(root: Path, data: dict, reported: set) -> list[tuple[tuple, str]]:
    """The calendar's country code, which every command's config check leaves out (it may load the
    holidays: the repository's holidays cache says it for a country met before)."""
    from cslog.calendar import HolidayData, WorkCalendar
    from cslog.slaview import holidays_cache

    calendar = data.get("calendar")
    if reported & {"calendar", "timezone"} or not isinstance(calendar, dict) or "country" not in calendar:
        return []
    try:
        WorkCalendar.from_config({"country": calendar["country"]}, data.get("timezone"),
                                 HolidayData(holidays_cache(root)))
    except ValueError as exc:
        return [(config_mod.setting_path(str(exc)) or ("calendar",), str(exc))]
    return []


def run_check(store: Store, paths: list[str] | None = None, use_cache: bool = True) -> CheckResult:
    """Every problem of the record files (all, or those under `paths`) and, for a whole check, cslog.yaml.

    With the index (use_cache), a file that passed every per-file check (YAML, schema, ID, personal data)
    under the same schemas and cslog.yaml, with the same bytes, is not validated again; references and
    duplicate IDs are still checked across all records. The result is the same either way."""
    if use_cache:
        return _run_indexed(store, paths)
    targets = record_files(store, paths)
    loaded = [load_file(store, kind, path) for kind, path in targets]
    # References are resolved against every record, also when only some files are checked.
    known: dict[str, set[str]] = defaultdict(set)
    for kind in KINDS:
        known[kind] = {p.stem for p in store.record_paths(kind)}
    problems: list[Problem] = [] if paths else check_config(store)
    ids: dict[str, list[Loaded]] = defaultdict(list)
    for item in loaded:
        problems += item.problems
        if item.doc is None:
            continue
        problems += check_schema(item)
        problems += check_identity(store, item)
        problems += check_references(item, known)
        problems += check_privacy(item)
        if isinstance(item.doc.get("id"), str):
            ids[item.doc["id"]].append(item)
    problems += _duplicates(store, ids, partial=bool(paths))
    return CheckResult(files=len(targets), problems=problems, validated=len(targets))


class _Known:
    """A file the index knows passed its per-file checks: its text is read only to place a problem."""

    def __init__(self, kind: str, path: Path, rel: str):
        self.kind, self.path, self.rel = kind, path, rel
        self._text: str | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            try:
                self._text = self.path.read_bytes().decode("utf-8-sig")
            except (OSError, UnicodeDecodeError):
                self._text = ""
        return self._text


def _run_indexed(store: Store, paths: list[str] | None) -> CheckResult:
    from cslog.index import Index, check_key

    index = Index.open(store, full_scan=True)  # check also looks at files that are not records
    found = index.last_scan
    assert found is not None
    root = store.root
    every = [(kind, rel) for kind, rel in found.files()] + list(found.strays)
    if paths:
        chosen = {store.rel(p): kind for kind, p in record_files(store, paths, _rel_paths(store, every, paths))}
        targets = [(kind, rel) for rel, kind in chosen.items()]
    else:
        targets = every
    key = check_key(store)
    # what needs a look: files not clean under this key (new, changed, unreadable), references to
    # nothing, IDs held twice; everything else passed before with the same bytes
    dirty = index.unchecked(key)
    dirty.update(rel for _kind, rel in found.strays)
    missing: dict[str, list[tuple[str, int, str, str]]] = defaultdict(list)
    for rel, field_name, pos, target, ref in index.dangling_references():
        missing[rel].append((field_name, pos, target, ref))
    twice = index.shared_ids()
    problems: list[Problem] = []
    config_clean = False
    if not paths:  # cslog.yaml too is checked again only when it (or the schemas, cslog, holidays) changed
        config_clean = index.clean_files(key, [config_mod.CONFIG_FILE]).get(config_mod.CONFIG_FILE) == \
            store.settings.digest
        problems = [] if config_clean else check_config(store)
    if paths:  # a partial check compares every chosen file's ID with the names of all record files
        twice = {rel: rid for rel, rid in index.ids_of(list(chosen)).items() if rid is not None}
    look = sorted(((kind, rel) for kind, rel in targets if rel in dirty or rel in missing or rel in twice),
                  key=lambda item: (KINDS.index(item[0]), item[1].replace("/", "\0")))
    ids: dict[str, list] = defaultdict(list)
    passed: dict[str, str] = {}
    failed: list[str] = []
    known: dict[str, set[str]] | None = None
    for kind, rel in look:
        path = root / rel
        if rel not in dirty:
            item = _Known(kind, path, rel)
            for field_name, pos, target, ref in missing.get(rel, ()):
                where = (field_name,) if pos < 0 else (field_name, pos)
                problems.append(Problem(rel, line_of(item.text, where), f"{field_name}: {target} {ref} does not exist",
                                        code="reference", field=field_name))
            if rel in twice:
                ids[twice[rel]].append(item)
            continue
        loaded = load_file(store, kind, path)
        problems += loaded.problems
        if loaded.doc is None:
            failed.append(rel)
            continue
        if known is None:
            known = index.stems()
        own = check_schema(loaded) + check_identity(store, loaded)
        problems += own + check_references(loaded, known)
        own_privacy = check_privacy(loaded)
        problems += own_privacy
        if isinstance(loaded.doc.get("id"), str):
            ids[loaded.doc["id"]].append(loaded)
        if not own and not own_privacy and not loaded.problems and index.digest(rel) == loaded.digest:
            passed[rel] = loaded.digest
        else:
            failed.append(rel)
    # a changed file may now share its ID with a clean one
    listed = {item.rel for items in ids.values() for item in items}
    for rel, rid in index.holders([rid for rid in ids if rid]).items():
        if rel not in listed and (not paths or rel in chosen):
            ids[rid].append(_Known(found_kind(found, rel), root / rel, rel))
    by_stem = None
    if paths:
        by_stem = defaultdict(set)
        for rid in ids:
            for rel in index.files_named(rid):
                by_stem[rid].add(root / rel)
    problems += _duplicates(store, ids, partial=False, by_stem=by_stem)
    if not paths and not config_clean and store.settings.digest:
        if any(p.path == config_mod.CONFIG_FILE for p in problems):
            failed.append(config_mod.CONFIG_FILE)
        else:
            passed[config_mod.CONFIG_FILE] = store.settings.digest
    index.mark_clean(key, passed, failed)
    return CheckResult(files=len(targets), problems=problems, validated=sum(1 for _k, r in look if r in dirty))


def found_kind(found, rel: str) -> str:
    return found.kinds.get(rel.rpartition("/")[0]) or next((k for k, folder in KIND_FOLDERS.items()
                                                            if rel.startswith(folder + "/")), "ticket")


def _rel_paths(store: Store, every: list[tuple[str, str]], paths: list[str]) -> list[tuple[str, Path]]:
    """The files of `every` under the given paths, as (kind, Path) for record_files (few Path objects)."""
    prefixes = []
    for raw in paths:
        target = Path(raw)
        target = (target if target.is_absolute() else Path.cwd() / target).resolve()
        rel = os.path.relpath(target, store.root).replace(os.sep, "/")
        prefixes.append("" if rel == "." else rel)
    chosen = [(kind, rel) for kind, rel in every
              if any(not p or rel == p or rel.startswith(p + "/") for p in prefixes)]
    chosen.sort(key=lambda item: (KINDS.index(item[0]), item[1].replace("/", "\0")))
    return [(kind, store.root / rel) for kind, rel in chosen]


def _duplicates(store: Store, ids: dict[str, list[Loaded]], partial: bool,
                by_stem: dict[str, set] | None = None) -> list[Problem]:
    """An ID held by two files. When only some files are checked, the other copy may lie elsewhere."""
    if by_stem is None:  # (the index gives it ready, for the IDs that matter)
        by_stem = defaultdict(set)
        if partial:
            for kind in KINDS:
                for path in store.record_paths(kind):
                    by_stem[path.stem].add(path)
    problems = []
    for rid, items in sorted(ids.items()):
        places = {i.path for i in items} | by_stem.get(rid, set())
        if len(places) > 1:
            others = sorted(store.rel(p) for p in places)
            for item in items:
                problems.append(Problem(item.rel, line_of(item.text, ("id",)),
                                        f"duplicate id {rid}: also in {', '.join(o for o in others if o != item.rel)}",
                                        code="duplicate", field="id"))
    return problems
