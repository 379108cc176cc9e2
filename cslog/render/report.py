"""`cslog report` as text: the report's sections (report.sections) as titled tables."""
from __future__ import annotations

from typing import Any

from cslog.render.text import table
from cslog.report.sections import empty_text, row_format, row_values, sections, title_text


def show(value: Any, fmt: str, language: str) -> str:
    """A value as text for the terminal table."""
    if value is None:
        return "-"
    signed = fmt.startswith("d")
    base = fmt[1:] if signed else fmt
    if base == "rate":
        text = f"{value * 100:+.1f}pp" if signed else f"{value * 100:.1f}%"
    elif base in ("hours", "score"):
        text = f"{value:+.2f}" if signed else f"{value:.2f}"
    elif base == "count" and isinstance(value, (int, float)):
        text = f"{value:+d}" if signed else f"{value}"
    else:
        text = str(value)
    return text


def report_text(data: dict, org: str, language: str) -> str:
    """The report as titled CJK-aware tables (what `cslog report` prints)."""
    lines = [title_text(data, org, language)]
    if not data["tickets"]:
        lines += ["", empty_text(language)]
    for section in sections(data, language):
        if not section.rows:
            continue
        body = [[show(v, row_format(section, row, i), language) for i, v in enumerate(row_values(section, row))]
                for row in section.rows]
        right = [i for i in range(len(section.headers)) if section.formats[i] != "text"]
        lines += ["", f"[{section.title}]", table(body, section.headers, right)]
    return "\n".join(lines) + "\n"
