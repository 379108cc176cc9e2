"""Finding the record files on disk and what changed: one listing per record folder, every file's stamp.

A file's stamp is (mtime_ns, size, ctime_ns, inode): any write changes the ctime, so an edit that puts the
mtime back (`touch -d`, `cp -p`, `rsync -t`, a restore) is seen too. A folder's listing is compared with what
the index holds as one digest; only a folder whose digest moved is compared file by file.
"""
from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from cslog.model import KIND_FOLDERS, KINDS, SHARDED
from cslog.yamlio import TEMP_SUFFIX

Stamp = tuple[int, int, int, int]
RACY = (0, -1, 0, 0)  # the stamp of a file read too soon after it was written: read again next time
RACY_NS = 2_000_000_000  # a file changed this recently may change again within the same clock tick


@dataclass
class Scan:
    """The record files of some kinds: {folder: {name: stamp}} (folders relative to the repository,
    '/'-separated), which kind each folder holds, and the other files under the record folders that `cslog
    check` looks at (strays: misplaced records, .yml files, temp files of killed writers)."""

    listings: dict[str, dict[str, Stamp]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    strays: list[tuple[str, str]] = field(default_factory=list)

    def files(self) -> Iterator[tuple[str, str]]:
        """(kind, relative path) of every record file."""
        for folder, listing in self.listings.items():
            kind = self.kinds[folder]
            for name in listing:
                yield kind, f"{folder}/{name}"


def record_kind(rel: str) -> str | None:
    """The kind of record a relative path names (tickets/YYYY/MM/X.yaml, customers/X.yaml...), else None."""
    top, _, rest = rel.partition("/")
    kind = next((k for k in KINDS if KIND_FOLDERS[k] == top), None)
    if kind is None:
        return None
    parts = rest.split("/")
    name = parts[-1]
    if len(parts) != (3 if kind in SHARDED else 1) or "" in parts or not name.endswith(".yaml") or name[0] == ".":
        return None
    return kind


def scan(root: str, kinds: Iterable[str] = KINDS, strays: bool = False) -> Scan:
    """One pass over the record folders of these kinds, every record file stat'ed (strays: also note the
    other files `cslog check` looks at)."""
    found = Scan()
    for kind in kinds:
        top = KIND_FOLDERS[kind]
        if kind not in SHARDED:
            _list(found, kind, f"{root}/{top}", top, strays)
            continue
        for year in _names(f"{root}/{top}"):
            rel_year = f"{top}/{year}"
            if not _is_dir(f"{root}/{rel_year}"):
                if strays and _checked(year) and _is_file(f"{root}/{rel_year}"):
                    found.strays.append((kind, rel_year))
                continue
            for month in _names(f"{root}/{rel_year}"):
                rel_month = f"{rel_year}/{month}"
                if _is_dir(f"{root}/{rel_month}"):
                    _list(found, kind, f"{root}/{rel_month}", rel_month, strays)
                elif strays and _checked(month) and _is_file(f"{root}/{rel_month}"):
                    found.strays.append((kind, rel_month))
    return found


def digest(listing: dict[str, Stamp]) -> str:
    """One digest of a folder's names and stamps, in the listing's order (the order the folder lists them
    in, which holds while it is unchanged: another order only costs a comparison file by file)."""
    text = "\n".join([f"{name}\0{s[0]}\0{s[1]}\0{s[2]}\0{s[3]}" for name, s in listing.items()])
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def stamp_of(st: os.stat_result, now_ns: int) -> Stamp:
    """A file's stamp as read at now_ns: RACY when it changed too recently to be trusted."""
    if now_ns - max(st.st_mtime_ns, st.st_ctime_ns) < RACY_NS:
        return RACY
    return st.st_mtime_ns, st.st_size, st.st_ctime_ns, st.st_ino


def _list(found: Scan, kind: str, path: str, rel: str, strays: bool) -> None:
    """Note a record folder's record files with their stamps (and, for check, the other files below it)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    listing: dict[str, Stamp] = {}
    try:
        for name in os.listdir(fd):
            record = name.endswith(".yaml") and name[0] != "."
            if not record and not strays:
                continue
            try:
                st = os.stat(name, dir_fd=fd)
            except OSError:
                continue
            if record and stat.S_ISREG(st.st_mode):
                listing[name] = (st.st_mtime_ns, st.st_size, st.st_ctime_ns, st.st_ino)
            elif strays and stat.S_ISDIR(st.st_mode) and not os.path.islink(f"{path}/{name}"):
                _strays_below(found, kind, f"{path}/{name}", f"{rel}/{name}")
            elif strays and _checked(name) and stat.S_ISREG(st.st_mode):
                found.strays.append((kind, f"{rel}/{name}"))
    finally:
        os.close(fd)
    found.listings[rel] = listing
    found.kinds[rel] = kind


def _strays_below(found: Scan, kind: str, path: str, rel: str) -> None:
    for name in _names(path):
        full = f"{path}/{name}"
        if _is_dir(full) and not os.path.islink(full):
            _strays_below(found, kind, full, f"{rel}/{name}")
        elif _checked(name) and _is_file(full):
            found.strays.append((kind, f"{rel}/{name}"))


def _checked(name: str) -> bool:
    """The files `cslog check` looks at besides records: .yaml/.yml and temp files."""
    dot = name.rfind(".")
    return (dot > 0 and name[dot:] in (".yaml", ".yml") or name.endswith(TEMP_SUFFIX)) and name != ".gitkeep"


def _names(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def _is_dir(path: str) -> bool:
    return os.path.isdir(path)


def _is_file(path: str) -> bool:
    return os.path.isfile(path)
