"""Text for people and programs: tables (tabulate, CJK-aware through wcwidth), JSON, CSV, and the width of text
on a terminal."""
from __future__ import annotations

import csv
import io
import json
from typing import Any, Iterator, Sequence


class _CharWidths(dict):
    """Terminal columns of each character (wcwidth: Chinese characters take two), asked once per character."""

    def __missing__(self, ch: str) -> int:
        from wcwidth import wcwidth

        width = self[ch] = max(wcwidth(ch), 0)
        return width


_WIDTHS = _CharWidths()


def text_width(text: str) -> int:
    """How many terminal columns `text` takes (Chinese characters count two)."""
    if text.isascii():
        return len(text)
    return sum(map(_WIDTHS.__getitem__, text))


def pad(text: str, width: int) -> str:
    """`text` followed by spaces up to `width` terminal columns."""
    return text + " " * max(width - text_width(text), 0)


def clip(text: str, width: int) -> str:
    """One line of at most `width` terminal columns (Chinese characters count two), cut with '…'."""
    text = " ".join(text.split())
    if text_width(text) <= width:
        return text
    out, used = "", 0
    for ch in text:
        w = _WIDTHS[ch]
        if used + w > width - 1:
            break
        out += ch
        used += w
    return out + "…"


def table(body: Sequence[Sequence[str]], heads: Sequence[str], right: Sequence[int] = ()) -> str:
    """Rows of text under headers, columns lined up by terminal width (tabulate's "simple" format: two spaces
    between columns, a dashed rule under the headers); right: the columns aligned right. '' when no rows."""
    if not body:
        return ""
    from tabulate import tabulate

    align = ["right" if i in right else "left" for i in range(len(heads))]
    body = [[str(text).strip() for text in row] for row in body]
    return tabulate(body, headers=[h.strip() for h in heads], tablefmt="simple", disable_numparse=True,
                    colalign=align)


def to_json(data: Any) -> str:
    """Indented JSON; a list of objects (rows) puts one object on each line: readable, and grep- and
    diff-friendly."""
    return "".join(json_pieces(data))


def json_pieces(data: Any) -> Iterator[str]:
    """to_json's text in pieces, one row at a time (a large listing is written as it is made)."""
    if isinstance(data, list) and data and all(type(item) is dict for item in data):
        encode = json.JSONEncoder(ensure_ascii=False).encode
        yield "["
        for i, item in enumerate(data):
            yield ("\n  " if i == 0 else ",\n  ") + encode(item)
        yield "\n]"
    else:
        yield json.dumps(data, ensure_ascii=False, indent=2)


# Text a spreadsheet program would run as a formula (or read as an error code) instead of showing it.
_RISKY_START = ("=", "+", "-", "@", "\t", "\r")  # (a tab or CR first: OWASP's list, some programs skip them)
_ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
GUARD_FIRST = "".join(_RISKY_START) + "#"  # the first characters worth a closer look (a quick test before needs_guard)


def needs_guard(text: str) -> bool:
    """Would a spreadsheet program run this text, or read it as something else than text?"""
    return text.startswith(_RISKY_START) or text in _ERROR_CODES


def to_csv(rows: list[dict], columns: Sequence[str], raw: bool = False) -> str:
    """The rows under a header of their keys; lists as `a, b`, mappings as `k=v, ...`."""
    return "".join(csv_pieces(rows, columns, raw))


def csv_pieces(rows: list[dict], columns: Sequence[str], raw: bool = False) -> Iterator[str]:
    """to_csv's text in pieces, a line at a time. A text cell a spreadsheet would run (=HYPERLINK(...),
    +cmd|..., @SUM...) gets a leading apostrophe, the usual form, unless raw."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for values in [columns, *([_guard(_flat(row.get(c)), raw) for c in columns] for row in rows)]:
        writer.writerow(values)
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def _guard(value: Any, raw: bool) -> Any:
    return "'" + value if not raw and isinstance(value, str) and needs_guard(value) else value


def _flat(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(str(_flat(v)) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_flat(v)}" for k, v in value.items())
    return "" if value is None else value
