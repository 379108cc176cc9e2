"""`cslog attach` (故障视频, 截图, 通话录音 in seeds 000 and 001) and `cslog followed` (a contact's 提醒节点 done).

An attachment is copied into attachments/<ID>/ and listed in the record as {file, sha256, bytes, note, at, by}
with an `attached` event; the files and the record go in one commit. A file over attachments.max_mb is refused
(such files belong in git LFS). `cslog check` reports a listed file that is missing or changed (`problems`).
"""
from __future__ import annotations

import copy
import hashlib
from datetime import datetime
from pathlib import Path

from cslog import privacy
from cslog.errors import Problem, Refused, UsageError
from cslog.store import Record, Store
from cslog.timeutil import fmt

FOLDER = "attachments"
MAX_NAME = 120  # characters of a stored file name (file systems allow 255 bytes; a CJK character takes 3)


def folder(store: Store, record_id: str) -> Path:
    return store.root / FOLDER / record_id


def attach(store: Store, record_id: str, files: list[Path], *, actor: str, now: datetime, note: str | None = None,
           commit: bool = True) -> tuple[Record, list[dict]]:
    """Copy the files in and list them; every file checked (exists, size) before anything is written."""
    if not files:
        raise UsageError("name at least one file", hint="cslog attach CW202611220001 故障视频.mp4 --note 客户提供")
    limit = store.settings.attachments_max_mb
    given = []
    for path in files:
        if path.is_dir():
            raise UsageError(f"{path} is a folder: attach the files in it")
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
        _checked_name(path.name)
        size = path.stat().st_size
        if size > limit * 1024 * 1024:
            raise UsageError(f"{path}: {size / 1048576:.2f} MB is over attachments.max_mb ({limit:g} MB)",
                             hint="keep large files in git LFS (git lfs track 'attachments/**'), or raise "
                                  "attachments.max_mb in cslog.yaml")
        given.append(path)
    _no_pii(note)
    at = fmt(now, store.settings.tz)
    with store.transaction("attach", actor, now, commit) as tx:
        record = store.read(record_id)
        doc = copy.deepcopy(record.doc)
        listed = list(doc.get("attachments") or [])
        target = folder(store, record.id)
        added = []
        for path in given:
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if any(a.get("sha256") == digest for a in listed):
                continue  # the same file, attached before
            name = _free_name(target, path.name, {a.get("file") for a in listed})
            tx.write_file(target / name, None, data)
            item = {"file": name, "sha256": digest, "bytes": len(data), "note": note, "at": at, "by": actor}
            item = {k: v for k, v in item.items() if v not in (None, "")}
            listed.append(item)
            added.append(item)
        if not added:
            raise Refused(f"{record.id} has these files already", hint=f"cslog show {record.id} lists them")
        doc["attachments"] = listed
        event = {"at": at, "by": actor, "kind": "attached", "files": [a["file"] for a in added]}
        if note:
            event["note"] = note
        doc["timeline"] = list(doc.get("timeline") or []) + [event]
        tx.summary = "attach " + ", ".join(a["file"] for a in added)
        written = tx.replace(record, doc)
    return written, added


def _checked_name(name: str) -> None:
    """A file name lands in the record, the commit and the workbook: one line, no personal data."""
    from cslog.people import checked_name

    checked_name(name, "attached file")


def _no_pii(note: str | None) -> None:
    if not note:
        return
    try:
        privacy.guard({"note": note}, False)
    except Refused as exc:
        raise Refused(exc.message, hint="remove it from --note: cslog does not store personal data") from None


def _free_name(target: Path, name: str, listed: set) -> str:
    """The file's own name (shortened to MAX_NAME, its extension kept), or name-2.ext, name-3.ext... when
    another file holds it."""
    name = name.replace("/", "_").replace("\\", "_").lstrip(".") or "file"
    stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
    if len(name) > MAX_NAME:
        ext = ext[:16]
        stem = stem[:MAX_NAME - len(ext) - 8]
        name = f"{stem}{dot}{ext}"
    candidate, n = name, 1
    while candidate in listed or (target / candidate).exists():
        n += 1
        candidate = f"{stem}-{n}{dot}{ext}" if dot else f"{name}-{n}"
    return candidate


def problems(store: Store, rel: str, doc: dict, text: str) -> list[Problem]:
    """A record's listed attachments that are missing or no longer what was attached."""
    from cslog.yamlio import line_of

    found = []
    for i, item in enumerate(doc.get("attachments") or []):
        if not isinstance(item, dict):
            continue
        path = folder(store, str(doc.get("id"))) / str(item.get("file"))
        where = line_of(text, ("attachments", i))
        try:
            changed = path.stat().st_size != item.get("bytes") or _sha256(path) != item.get("sha256")
        except OSError:
            found.append(Problem(rel, where, f"attachments: {FOLDER}/{doc.get('id')}/{item.get('file')} is missing",
                                 code="attachment", field="attachments"))
            continue
        if changed:
            found.append(Problem(rel, where, f"attachments: {FOLDER}/{doc.get('id')}/{item.get('file')} changed "
                                 "since it was attached (its sha256 differs)", code="attachment", field="attachments"))
    return found


def _sha256(path: Path) -> str:
    """A file's digest, read a megabyte at a time (an attachment may be 20 MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def followed(store: Store, contact_id: str, *, actor: str, now: datetime, note: str | None = None,
             commit: bool = True) -> Record:
    """A contact's follow-up done: followed_up_at, and a `followed` event; `overdue` lists it no more."""
    with store.transaction("followed", actor, now, commit) as tx:
        record = store.read(contact_id)
        if record.kind != "contact":
            raise UsageError(f"{record.id} is a {record.kind}: follow-ups belong to contacts (沟通记录)")
        if not record.doc.get("follow_up") and not record.doc.get("follow_up_at"):
            raise Refused(f"{record.id} has no follow-up to do",
                          hint=f"cslog set {record.id} follow_up=TEXT follow_up_at=TIME sets one")
        if record.doc.get("followed_up_at"):
            raise Refused(f"{record.id} was followed up already ({record.doc['followed_up_at']})")
        at = fmt(now, store.settings.tz)
        doc = copy.deepcopy(record.doc)
        doc["followed_up_at"] = at
        event = {"at": at, "by": actor, "kind": "followed"}
        if note:
            _no_pii(note)
            event["note"] = note
        doc["timeline"] = list(doc.get("timeline") or []) + [event]
        tx.summary = "followed up"
        written = tx.replace(record, doc)
    return written
