"""`cslog check`: every problem of every record file as values with file and line (load → check → report), and
`--fix`, which writes non-canonical files anew in canonical form.

Per file: the store's gate (YAML, schema, real times), labels read as codes (not canonical), the ID (safe, of
its kind's format, matching the file name and month folder), personal data; across files: references to
records that do not exist, IDs held twice; and cslog.yaml.
"""
from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from cslog import config as config_mod
from cslog import privacy, schemas
from cslog.errors import Problem, UsageError
from cslog.ids import is_safe
from cslog.model import KIND_FOLDERS, KINDS, SHARDED, references
from cslog.store import Loaded, Store, is_temp_file
from cslog.yamlio import YamlSyntaxError, line_of, load_text


@dataclass
class CheckResult:
    files: int
    problems: list[Problem]
    validated: int = 0  # files whose per-file checks ran (the others passed them before, unchanged)
    warnings: list[str] = field(default_factory=list)  # not problems: years whose 调休 the calendar guesses

    @property
    def ok(self) -> bool:
        return not self.problems


# -- one file ---------------------------------------------------------------------------------------------

def check_file(store: Store, kind: str, path: Path) -> tuple[Loaded, list[Problem]]:
    """The gate's word on a file and every per-file problem (references aside)."""
    if is_temp_file(path):
        rel = store.rel(path)
        return Loaded(kind, rel), [Problem(rel, 1, "left-over temporary file of an interrupted write; delete it",
                                           code="temp_file")]
    item = store.load(kind, path)
    if not item.ok:
        return item, list(item.problems)
    return item, labels(item) + identity(store, item) + personal_data(item)


def labels(item: Loaded) -> list[Problem]:
    """Labels and aliases in enum fields: read as their codes, but the file should hold the codes."""
    return [Problem(item.rel, line_of(item.text, path),
                    f"{'.'.join(map(str, path))}: '{label}' is a label, not canonical: the file should hold the code "
                    f"'{code}' (`cslog check --fix` rewrites it)", code="not_canonical", field=".".join(map(str, path)))
            for path, label, code in item.relabelled]


def identity(store: Store, item: Loaded) -> list[Problem]:
    """The ID must be safe, match its kind's format, its file name and (for sharded kinds) its month folder."""
    rid = item.doc.get("id")
    line = line_of(item.text, ("id",))
    if not isinstance(rid, str) or not is_safe(rid):
        return [Problem(item.rel, line, f"id {rid!r} is not a valid ID", code="id", field="id")]
    problems = []
    path = Path(item.rel)
    if rid != path.stem:
        problems.append(Problem(item.rel, line, f"id {rid} does not match the file name {path.name}; rename "
                                f"the file to {rid}.yaml or fix the id", code="id_mismatch", field="id"))
    parsed = store.id_format(item.kind).parse(rid)
    if parsed is None:
        problems.append(Problem(item.rel, line, f"id {rid} does not follow the {item.kind} format "
                                f"{store.settings.ids[item.kind]} of cslog.yaml", code="id_format", field="id"))
    if item.kind in SHARDED:
        month, year = path.parent.name, path.parent.parent.name
        if not (re.fullmatch(r"\d{4}", year) and re.fullmatch(r"\d{2}", month)):
            problems.append(Problem(item.rel, 1, f"a {item.kind} belongs in {KIND_FOLDERS[item.kind]}/YYYY/MM/",
                                    code="folder"))
        elif parsed and parsed.day and (f"{parsed.day:%Y}", f"{parsed.day:%m}") != (year, month):
            problems.append(Problem(item.rel, line, f"id {rid} is from {parsed.day:%Y-%m} but the file is in "
                                    f"{year}/{month}; move it to {KIND_FOLDERS[item.kind]}/{parsed.day:%Y/%m}/",
                                    code="folder", field="id"))
    return problems


def personal_data(item: Loaded) -> list[Problem]:
    doc = item.doc
    timeline = doc.get("timeline")
    if doc.get("allow_pii") or (isinstance(timeline, list) and any(e.get("allow_pii") for e in timeline)):
        return []
    return [Problem(item.rel, line_of(item.text, path),
                    f"{'.'.join(map(str, path))}: personal data: {f.label} {f.masked}; remove it "
                    "(严禁记录客户敏感信息)", code="pii", field=".".join(map(str, path)))
            for path, f in privacy.scan(doc)]


def dangling(rel: str, text: str, refs, known: dict[str, set[str]]) -> list[Problem]:
    """References (field, position or -1, kind, ID) to no record of that kind."""
    problems = []
    for field_name, pos, target, ref in refs:
        if ref not in known[target]:
            where = (field_name,) if pos < 0 else (field_name, pos)
            problems.append(Problem(rel, line_of(text, where), f"{field_name}: {target} {ref} does not exist",
                                    code="reference", field=field_name))
    return problems


# -- git ----------------------------------------------------------------------------------------------------

def git_problems(store: Store) -> list[Problem]:
    """A git operation stopped half-way in the clone, and the paths git still holds as conflicted."""
    from cslog import gitrepo

    if store.git_root is None:
        return []
    problems = []
    stopped = gitrepo.unfinished(store.root, store.git_root)
    if stopped is not None:
        problems.append(Problem(".git", None, f"{stopped[0]} is in progress: finish it, or undo it with "
                                f"`{stopped[1]}` (records: `git merge --abort`, then `cslog sync`, which merges them "
                                "field by field and renumbers an ID collision)",
                                code="git"))
    for rel in gitrepo.unmerged_paths(store.root):
        problems.append(Problem(rel, None, "unmerged: git holds two versions of this file; resolve the conflict "
                                "(`git merge --abort`, then `cslog sync`, which merges records field by field and "
                                "renumbers an ID collision)", code="git"))
    return problems


def start_tracked(store: Store):
    """The record files git tracks (relative to the repository), listed while check goes on: a function
    that waits for the answer (None without git, or when git cannot say)."""
    import subprocess

    if store.git_root is None:
        return lambda: None
    folders = [KIND_FOLDERS[k] for k in KINDS]
    try:
        proc = subprocess.Popen(["git", "ls-files", "-z", "--", *folders], cwd=store.root, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
    except OSError:
        return lambda: None

    def answer() -> set[str] | None:
        out, _ = proc.communicate()
        return set(out.decode("utf-8", "surrogateescape").split("\0")) if proc.returncode == 0 else None

    return answer


def untracked_referenced(store: Store, files: list[tuple[str, str]], tracked: set[str] | None,
                         index) -> list[Problem]:
    """Record files git does not track that tracked records refer to: a fresh clone has references to nothing
    (what a writer killed before its commit left, before cslog put such leftovers back itself)."""
    if tracked is None:
        return []
    loose = {(kind, rel.rpartition("/")[2][:-5]): rel for kind, rel in files if rel not in tracked}
    if not loose:
        return []
    if index is not None:
        refs = index.references_to(loose)
    else:  # read the tracked files that name one of them
        named = re.compile("|".join(re.escape(rid) for _kind, rid in loose))
        refs = [(rel, *ref) for kind, rel in files if rel in tracked and named.search(_text(store.root / rel))
                for item in [store.load(kind, store.root / rel)] if item.ok for ref in references(item.doc, kind)]
    referrers: dict[tuple[str, str], set[str]] = defaultdict(set)
    for rel, _field, _pos, target, ref in refs:
        if rel in tracked and (target, ref) in loose:
            referrers[(target, ref)].add(rel)
    return [Problem(loose[key], None, f"git does not track this file, yet committed records refer to {key[1]} "
                    f"({', '.join(sorted(by)[:3])}{' ...' if len(by) > 3 else ''}): commit it (git add "
                    f"{loose[key]} && git commit), or a fresh clone has references to nothing", code="untracked")
            for key, by in sorted(referrers.items())]


def attachment_problems(store: Store, files: list[tuple[str, str]], index, chosen: set | None = None) -> list[Problem]:
    """Listed attachments that are missing or changed (ops/attach.py), of the records checked (`chosen`, or
    all), looked at every time: a file under attachments/ changes without its record changing."""
    from cslog.ops import attach

    if index is not None:
        listing = [(rel, doc) for rel, _kind, doc in index.attached()]
    else:
        listing = [(rel, item.doc) for kind, rel in files if (chosen is None or rel in chosen)
                   and "attachments:" in _text(store.root / rel) for item in [store.load(kind, store.root / rel)] if item.ok]
    return [p for rel, doc in listing if chosen is None or rel in chosen
            for p in attach.problems(store, rel, doc, _text(store.root / rel))]


# -- cslog.yaml ---------------------------------------------------------------------------------------------

def check_config(root: Path) -> list[Problem]:
    """Every problem of cslog.yaml; works when the file is too damaged for the repository to open."""
    name = config_mod.CONFIG_FILE
    try:
        text = (root / name).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return [Problem(name, None, "not UTF-8 text; save cslog.yaml as UTF-8", code="config")]
    try:
        data = load_text(text) or {}
    except YamlSyntaxError as exc:
        return [Problem(name, exc.line, str(exc), code="config")]
    if not isinstance(data, dict):
        return [Problem(name, 1, "cslog.yaml must be a mapping of settings", code="config")]
    found = config_mod.config_problems(data)
    found += _country_problems(root, data, {p[0] for p, _m in found})
    problems = [Problem(name, line_of(text, p), m, code="config") for p, m in found]
    problems += [Problem(name, line_of(text, p), m, code="config")
                 for p, m in schemas.validate(data, "config") if not any(q.line == line_of(text, p) for q in problems)]
    return problems


def _country_problems(root: Path, data: dict, reported: set) -> list[tuple[tuple, str]]:
    """The calendar's country code, which every command's config check leaves out (it may load the
    holidays: the repository's holidays cache says it for a country met before)."""
    from cslog.calendar import HolidayData, WorkCalendar
    from cslog.store import CACHE_DIR, HOLIDAYS_FILE

    calendar = data.get("calendar")
    if reported & {"calendar", "timezone"} or not isinstance(calendar, dict) or "country" not in calendar:
        return []
    try:
        WorkCalendar.from_config({"country": calendar["country"]}, data.get("timezone"),
                                 HolidayData(str(root / CACHE_DIR / HOLIDAYS_FILE)))
    except ValueError as exc:
        return [(config_mod.setting_path(str(exc)) or ("calendar",), str(exc))]
    return []


# -- the whole check ----------------------------------------------------------------------------------------

def run_check(store: Store, paths: list[str] | None = None, use_cache: bool = True) -> CheckResult:
    """Every problem of the record files (all, or those under `paths`) and, for a whole check, cslog.yaml.

    With the index (use_cache), a file that passed every per-file check as it is now, under the same
    schemas, code and cslog.yaml, is not checked again; references and duplicate IDs are still looked at
    across all records. Without it every file is checked, and nothing is written. Many files are checked in
    two processes. The result is the same either way."""
    from cslog.index import scan as scanning

    tracked = start_tracked(store)
    index = None
    if use_cache:
        from cslog.index import Index
        from cslog.index.key import check_key

        index = Index.open(store, strays=True)
        found = index.last_scan
        assert found is not None
    else:
        found = scanning.scan(str(store.root), KINDS, strays=True)
    every = list(found.files()) + list(found.strays)
    targets = _under(store, every, paths) if paths else every
    chosen = {rel for _kind, rel in targets} if paths else None
    stems: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for kind, rel in found.files():
        stems[kind].add(rel.rpartition("/")[2][:-5])
    missing: dict[str, list] = defaultdict(list)
    twice: dict[str, str] = {}
    if index is not None:
        key = check_key(store.settings)
        dirty = index.unchecked(key) | {rel for _kind, rel in found.strays}
        for rel, field_name, pos, target, ref in index.dangling_references():
            missing[rel].append((field_name, pos, target, ref))
        twice = index.shared_ids()
    else:
        dirty = {rel for _kind, rel in targets}
    # what needs a look: files not clean (under the index's key), references to nothing, IDs held twice; every
    # other file passed every check before, with the same bytes
    look = sorted(((kind, rel) for kind, rel in targets if rel in dirty or rel in missing or rel in twice),
                  key=lambda item: file_order(item[1]))
    problems: list[Problem] = git_problems(store) + ([] if paths else check_config(store.root))
    ids: dict[str, set[str]] = defaultdict(set)
    passed, failed = [], []
    from cslog import parallel

    for rel, rid, own, clean in parallel.each(_check_one, (store, stems), [item for item in look if item[1] in dirty]):
        problems += [Problem(*p) for p in own]
        if rid is not None:
            ids[rid].add(rel)
        (passed if clean else failed).append(rel)
    for kind, rel in look:
        if rel in missing and rel not in dirty:
            problems += dangling(rel, _text(store.root / rel), missing[rel], {k: set() for k in KINDS})
        if rel in twice:
            ids[twice[rel]].add(rel)
    # an ID held twice: the other holders too, wherever they are (a partial check names them)
    if index is not None:
        for rel, rid in index.holders(list(ids)).items():
            ids[rid].add(rel)
    for rid, holders in sorted(ids.items()):
        if len(holders) < 2:
            continue
        for rel in sorted(holders, key=file_order):
            if chosen is None or rel in chosen:
                others = ", ".join(sorted(h for h in holders if h != rel))
                problems.append(Problem(rel, line_of(_text(store.root / rel), ("id",)),
                                        f"duplicate id {rid}: also in {others}", code="duplicate", field="id"))
    problems += [p for p in untracked_referenced(store, list(found.files()), tracked(), index)
                 if chosen is None or p.path in chosen]
    problems += attachment_problems(store, list(found.files()), index, chosen)
    if index is not None:
        index.mark_checked(key, passed, failed)
    problems.sort(key=lambda p: (p.path != config_mod.CONFIG_FILE, file_order(p.path), p.line or 0))
    return CheckResult(files=len(targets), problems=problems, validated=len(passed) + len(failed))


def _check_one(context: tuple, item: tuple[str, str]) -> tuple:
    """One file's per-file problems and references to nothing, as plain tuples (for parallel.each): (path,
    its id or None, problems, whether it passed every per-file check)."""
    store, stems = context
    kind, rel = item
    loaded, own = check_file(store, kind, store.root / rel)
    found = list(own)
    rid = None
    if loaded.ok:
        found += dangling(rel, loaded.text, references(loaded.doc, kind), stems)
        rid = loaded.doc.get("id") if isinstance(loaded.doc.get("id"), str) else None
    return rel, rid, [(p.path, p.line, p.message, p.code, p.field) for p in found], not own


def file_order(rel: str) -> tuple:
    """Files in the order check lists them: by kind (tickets, contacts, customers), then by path components."""
    top = rel.partition("/")[0]
    kind = next((i for i, k in enumerate(KINDS) if KIND_FOLDERS[k] == top), len(KINDS))
    return kind, rel.replace("/", "\0")


def _under(store: Store, every: list[tuple[str, str]], paths: list[str]) -> list[tuple[str, str]]:
    """The files of `every` under the given paths (a record file outside them too, when named)."""
    chosen: dict[str, str] = {}
    for raw in paths:
        target = Path(raw)
        target = (target if target.is_absolute() else Path.cwd() / target).resolve()
        if not target.exists():
            raise UsageError(f"no such file or folder: {raw}")
        if target == store.root / config_mod.CONFIG_FILE:
            continue
        rel = os.path.relpath(target, store.root).replace(os.sep, "/")
        picked = [(k, r) for k, r in every if rel == "." or r == rel or r.startswith(rel + "/")]
        if target.is_file() and not picked:
            kind = next((k for k, folder in KIND_FOLDERS.items() if rel.startswith(folder + "/")), None)
            if kind is None or rel.startswith(".."):
                raise UsageError(f"{raw} is not a record file of {store.root} (records live in "
                                 f"{', '.join(KIND_FOLDERS.values())})")
            picked = [(kind, rel)]
        chosen.update((r, k) for k, r in picked)
    return sorted(((k, r) for r, k in chosen.items()), key=lambda item: file_order(item[1]))


def _text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return ""


# -- --fix ------------------------------------------------------------------------------------------------

@dataclass
class Fixed:
    """What `cslog check --fix` rewrote (relative paths) and the commit that holds it."""

    files: list[str] = field(default_factory=list)
    commit: str | None = None


def fix(store: Store, *, actor: str, now, paths: list[str] | None = None, commit: bool = True) -> Fixed:
    """Write every record file that passes the gate but is not in canonical form anew, canonically (codes
    for labels, schema key order, quoting, times with their offset), in one commit. Files that do not pass
    the gate are left for a person: `cslog check` says what is wrong with them."""
    from cslog.index import Index
    index = Index.open(store)
    found = index.last_scan
    assert found is not None
    targets = _under(store, sorted(found.files()), paths) if paths else sorted(found.files())
    done = Fixed()
    with store.transaction("check --fix", actor, now, commit) as tx:
        for kind, rel in targets:
            path = store.root / rel
            item = store.load(kind, path)
            if not item.ok:
                continue
            text = store.render_new(kind, canonical_doc(kind, item.doc, store.settings.tz), path)
            if text != item.text:
                tx.write_file(path, item.text, text)
                done.files.append(rel)
        tx.summary = f"check --fix: {len(done.files)} file(s) in canonical form"
    done.commit = tx.commit_id
    return done


def canonical_doc(kind: str, doc: dict, tz) -> dict:
    """The document with every timestamp written the canonical way (ISO 8601 with its offset; a naive one
    in the configured timezone; a date alone stays a date)."""
    from cslog.timeutil import canonical

    out = doc
    for field_path in schemas.timestamp_fields(kind):
        for path, value in list(schemas.values_at(doc, field_path)):
            new = canonical(value, tz)
            if new != value:
                if out is doc:
                    import copy

                    out = copy.deepcopy(doc)
                target = out
                for step in path[:-1]:
                    target = target[step]
                target[path[-1]] = new
    return out
