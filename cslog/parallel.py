"""Work on many files in two forked processes: what a cold index build and a whole `cslog check` spend their time on
(reading and checking YAML is CPU work: two processes on two cores take half the time)."""
from __future__ import annotations

import marshal
import os
from typing import Any, Callable, Iterator

WORKERS = 2
AT = 2000  # items: from here on they are shared out (forking costs more than a few files take)
CHUNK = 400

_JOB: tuple[Callable[[Any, Any], Any], Any] | None = None


def each(fn: Callable[[Any, Any], Any], context: Any, items: list) -> Iterator[Any]:
    """fn(context, item) for every item, in two processes when there are many; results come in any order and
    must be marshal-able (tuples, lists, dicts, text, numbers, None). Forked workers inherit `context`."""
    global _JOB
    if len(items) < AT or WORKERS < 2 or not hasattr(os, "fork"):
        for item in items:
            yield fn(context, item)
        return
    import multiprocessing

    _JOB = (fn, context)
    try:
        chunks = [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]
        with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
            for blob in pool.imap_unordered(_chunk, chunks):
                yield from marshal.loads(blob)
    finally:
        _JOB = None


def _chunk(items: list) -> bytes:
    assert _JOB is not None
    fn, context = _JOB
    return marshal.dumps([fn(context, item) for item in items])
