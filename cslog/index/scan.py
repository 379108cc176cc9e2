"""Finding the record files on disk and what changed: one listing per record folder, every file's stamp.

A file's stamp is (mtime_ns, size, ctime_ns, inode): any write changes the ctime, so an edit that puts the
mtime back (`touch -d`, `cp -p`, `rsync -t`, a restore) is seen too. A folder's listing is compared with what
the index holds as one digest; only a folder whose digest moved is compared file by file.
"""
from __future__ import annotations

import hashlib
from array import array
import os
import stat
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from cslog.model import KIND_FOLDERS, KINDS, SHARDED
from cslog.yamlio import TEMP_SUFFIX

Stamp = tuple[int, int, int, int]
RACY = (0, -1, 0, 0)  # the stamp of a file read too soon after it was written: read again next time
RACY_NS = 2_000_000_000  # a file changed this recently may change again within the same clock tick
FORK_AT = 12  # record folders (a year of months): from here on two processes list them


@dataclass
class Scan:
    """The record files of some kinds: {folder: {name: stamp}} (folders relative to the repository,
    '/'-separated), which kind each folder holds, and the other files under the record folders that `cslog
    check` looks at (strays: misplaced records, .yml files, temp files of killed writers)."""

    listings: dict[str, dict[str, Stamp]] = field(default_factory=dict)  # (with `known`: of folders that moved)
    digests: dict[str, str] = field(default_factory=dict)  # of every folder's listing, as digest() makes it
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


def scan(root: str, kinds: Iterable[str] = KINDS, strays: bool = False, known: dict[str, str] | None = None) -> Scan:
    """One pass over the record folders of these kinds, every record file stat'ed (strays: also note the
    other files `cslog check` looks at). known: the digests the index holds; a folder that still has its
    digest gets no listing (every folder has its digest). Many folders are listed by two processes: stat'ing 100,000 files is
    most of what a warm command costs, and the kernel answers two at a time (as git's preload-index does)."""
    found = Scan()
    folders = _folders(root, kinds, found, strays)
    if len(folders) < FORK_AT or not hasattr(os, "fork"):
        for kind, rel in folders:
            _list(found, kind, f"{root}/{rel}", rel, strays, known)
        return found
    import marshal

    theirs, mine = folders[1::2], folders[0::2]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child lists every other folder and hands its Scan back
        status = 1
        try:
            os.close(read)
            part = Scan()
            for kind, rel in theirs:
                _list(part, kind, f"{root}/{rel}", rel, strays, known)
            data = marshal.dumps((part.listings, part.digests, part.kinds, part.strays))
            view = memoryview(data)
            while view:
                view = view[os.write(write, view):]
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    try:
        for kind, rel in mine:
            _list(found, kind, f"{root}/{rel}", rel, strays, known)
        with os.fdopen(read, "rb") as pipe:
            data = pipe.read()
    finally:
        _, status = os.waitpid(pid, 0)
    if status != 0:  # the child failed: list its folders here
        for kind, rel in theirs:
            _list(found, kind, f"{root}/{rel}", rel, strays, known)
    else:
        listings, digests, kinds_of, more = marshal.loads(data)
        found.listings.update(listings)
        found.digests.update(digests)
        found.kinds.update(kinds_of)
        found.strays += more
    order = {rel: i for i, (_kind, rel) in enumerate(folders)}
    found.listings = dict(sorted(found.listings.items(), key=lambda item: order[item[0]]))
    found.digests = dict(sorted(found.digests.items(), key=lambda item: order[item[0]]))
    found.strays.sort()
    return found


def relist(found: Scan, root: str, rel: str) -> None:
    """List one folder of a scan again, with its listing."""
    _list(found, found.kinds[rel], f"{root}/{rel}", rel, False)


def _folders(root: str, kinds: Iterable[str], found: Scan, strays: bool) -> list[tuple[str, str]]:
    """(kind, relative path) of the record folders of these kinds (and, for check, the stray files beside
    the month folders)."""
    folders = []
    for kind in kinds:
        top = KIND_FOLDERS[kind]
        if kind not in SHARDED:
            folders.append((kind, top))
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
                    folders.append((kind, rel_month))
                elif strays and _checked(month) and _is_file(f"{root}/{rel_month}"):
                    found.strays.append((kind, rel_month))
    return folders


def digest(listing: dict[str, Stamp]) -> str:
    """One digest of a folder's names and stamps, in the listing's order (the order the folder lists them
    in, which holds while it is unchanged: another order only costs a comparison file by file)."""
    numbers: list[int] = []
    for stamp in listing.values():
        numbers.extend(stamp)
    return _digest(list(listing), numbers)


def _digest(names: list[str], numbers) -> str:
    try:
        packed = array("q", numbers).tobytes() if not isinstance(numbers, array) else numbers.tobytes()
    except OverflowError:  # (an inode number past 2**63: the same text either way)
        packed = repr(list(numbers)).encode()
    h = hashlib.blake2b(packed, digest_size=16)
    h.update("\0".join(names).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def stamp_of(st: os.stat_result, now_ns: int) -> Stamp:
    """A file's stamp as read at now_ns: RACY when it changed too recently to be trusted."""
    if now_ns - max(st.st_mtime_ns, st.st_ctime_ns) < RACY_NS:
        return RACY
    return st.st_mtime_ns, st.st_size, st.st_ctime_ns, st.st_ino


def _list(found: Scan, kind: str, path: str, rel: str, strays: bool, known: dict[str, str] | None = None) -> None:
    """Note a record folder's record files with their stamps (and, for check, the other files below it)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    names: list[str] = []
    numbers: list[int] = []
    stat_ = os.stat
    regular = stat.S_ISREG
    try:
        for name in os.listdir(fd):
            if name[-5:] == ".yaml" and name[0] != ".":
                try:
                    st = stat_(name, dir_fd=fd)
                except OSError:
                    continue
                if regular(st.st_mode):
                    names.append(name)
                    numbers += (st.st_mtime_ns, st.st_size, st.st_ctime_ns, st.st_ino)
                    continue
            if not strays:
                continue
            full = f"{path}/{name}"
            if os.path.isdir(full) and not os.path.islink(full):
                _strays_below(found, kind, full, f"{rel}/{name}")
            elif _checked(name) and os.path.isfile(full):
                found.strays.append((kind, f"{rel}/{name}"))
    finally:
        os.close(fd)
    found.digests[rel] = _digest(names, numbers)
    found.kinds[rel] = kind
    if known is None or known.get(rel) != found.digests[rel]:
        found.listings[rel] = {name: tuple(numbers[4 * i:4 * i + 4]) for i, name in enumerate(names)}


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
