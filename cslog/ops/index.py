"""The index command's use-case (cli/index.py): `cslog reindex`."""
from __future__ import annotations

from cslog.store import Store


def reindex(store: Store, full: bool = True):
    """Build .cslog/index.sqlite anew (full), or only bring it up to date; what changed (index.Changes)."""
    from cslog import index

    return index.rebuild(store, full=full)
