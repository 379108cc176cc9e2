"""What the index depends on besides the record files: when any of it changes, the index is built anew."""
from __future__ import annotations

import hashlib
import os
import sys

from cslog import __version__
from cslog.calendar import holidays_version

FORMAT = 10  # bump when the tables or what goes into them change: older files are rebuilt with a warning

# The modules whose code decides what a row, a clock or a clean check is: a change to them (a new cslog in
# development as much as an upgrade) rebuilds the index.
_CODE = ("index/tables.py", "index/scan.py", "yamlio.py", "schemas.py", "store.py", "sla.py", "calendar.py",
         "durations.py", "timeutil.py", "config.py", "defaults.py", "model.py", "labels.py", "privacy.py", "ids.py",
         "checks.py")


def _files_digest(paths) -> str:
    """One digest of these files' names and bytes (a missing file counts as such)."""
    h = hashlib.blake2b(digest_size=16)
    for path in paths:
        h.update(os.path.basename(path).encode())
        try:
            with open(path, "rb") as f:
                h.update(f.read())
        except OSError:
            h.update(b"-")
    return h.hexdigest()


def schema_hash() -> str:
    from cslog.schemas import SCHEMA_FILES, schema_dir

    return _files_digest(str(schema_dir() / name) for name in sorted(SCHEMA_FILES.values()))


def code_hash() -> str:
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return _files_digest(os.path.join(package, name) for name in _CODE)


def index_key(settings) -> dict:
    """Everything the cached rows depend on besides the files."""
    return {"format": FORMAT, "cslog": __version__, "code": code_hash(), "schemas": schema_hash(),
            "config": settings.digest, "station": settings.station, "holidays": holidays_version(),
            "python": f"{sys.version_info[0]}.{sys.version_info[1]}"}


def check_key(settings) -> str:
    """What a clean `cslog check` of one file depends on besides its bytes."""
    return f"{schema_hash()}:{code_hash()}:{settings.digest}:{settings.station}"
