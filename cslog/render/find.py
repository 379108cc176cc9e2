"""`cslog find`'s table, and a customer's tickets and contacts under `cslog show C0001` (open tickets marked)."""
from __future__ import annotations

from cslog import labels
from cslog.model import kind_label
from cslog.privacy import mask
from cslog.render.record import cell
from cslog.render.text import clip, table

COLUMNS = ("open", "kind", "id", "title", "status", "customer_name", "phone", "at")


def found_table(rows: list[dict], language: str, columns: tuple[str, ...] = COLUMNS) -> str:
    """One line a record: open tickets marked, kinds and statuses by their labels, times to the minute, phones
    masked as everywhere a screen shows them (JSON keeps them whole, for a script)."""
    body = [[labels.OPEN_MARK if row.get("open") else "", kind_label(row["kind"], language), row.get("id") or "",
             clip(str(row.get("title") or ""), 40), cell(row.get("status"), "status", language),
             row.get("customer_name") or "", mask(row.get("phone") or ""), cell(row.get("at"), "received_at", language)]
            for row in rows]
    keep = [i for i, c in enumerate(COLUMNS) if c in columns]
    return table([[line[i] for i in keep] for line in body],
                 [labels.say(labels.FOUND[COLUMNS[i]], language) for i in keep])


def customer_records_text(rows: list[dict], language: str) -> str:
    """The section `cslog show` adds under a customer ('' when it has none)."""
    if not rows:
        return ""
    columns = ("open", "kind", "id", "title", "status", "at")
    return labels.say(labels.CUSTOMER_RECORDS, language) + ":\n" + found_table(rows, language, columns)
