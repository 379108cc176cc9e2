"""Who is calling (seed 000 step 1, 调取客户历史记录): `cslog find TEXT`, a customer's records for `cslog show`, and
`--customer` given as a name or phone. Read from the index (every record the gate passed)."""
from __future__ import annotations

import re

from cslog.errors import NotFound, UsageError
from cslog.model import OPEN_STATUSES, fold, name_key, phone_key
from cslog.store import Store

MIN_PHONE_DIGITS = 4
# The records a customer has, each with the words a search reads and the time it is ordered by.
RECORDS = (("ticket", "title", "received_at"), ("contact", "request", "started_at"))
_PHONE_TEXT = re.compile(r"^\+?[\d\s-]+$")


def phones(doc: dict) -> list[str]:
    return [str(c.get("phone")) for c in doc.get("contacts") or [] if isinstance(c, dict) and c.get("phone")]


def _index(store: Store, kinds: tuple[str, ...] = ("customer", "ticket", "contact")):
    from cslog.index import Index

    return Index.open(store, kinds=kinds)


def find(store: Store, text: str, limit: int = 50) -> list[dict]:
    """Customers by name, phone (its last 4 or more digits) or ID prefix; tickets by ID prefix or the words of
    their title; contacts by ID prefix or the words of their request. Customers first, then the newest records."""
    text = text.strip()
    if not text:
        raise UsageError("give a name, the last 4 or more digits of a phone, an ID or words of a title")
    index = _index(store)
    wanted, words = fold(text), fold(text).split()
    digits = phone_key(text)
    by_phone = len(digits) >= MIN_PHONE_DIGITS and bool(_PHONE_TEXT.match(text))
    found: list[dict] = []
    for doc in index.docs("customer"):
        rid = str(doc.get("id") or "")
        numbers = phones(doc)
        hit = ("phone" if by_phone and any(phone_key(p).endswith(digits) for p in numbers) else
               "id" if fold(rid).startswith(wanted) else
               "name" if all(w in fold(doc.get("name")) for w in words) else None)
        if hit:
            found.append({"kind": "customer", "id": rid, "title": doc.get("name"), "status": None,
                          "customer": rid, "customer_name": doc.get("name"), "phone": ", ".join(numbers) or None,
                          "at": None, "open": None, "match": hit})
    records = []
    for kind, words_of, at in RECORDS:
        for row in index.rows(kind):
            rid = str(row.get("id") or "")
            hit = ("id" if fold(rid).startswith(wanted) else
                   "words" if not by_phone and all(w in fold(row.get(words_of)) for w in words) else None)
            if hit:
                records.append(_row(kind, row, words_of, at, hit))
    records.sort(key=lambda r: r["at"] or "", reverse=True)
    return (found + records)[:limit]


def customer_records(store: Store, customer_id: str) -> list[dict]:
    """A customer's tickets and contacts, newest first; `open` says whether a ticket is still being handled."""
    index = _index(store, ("ticket", "contact"))
    out = [_row(kind, row, words_of, at, None)
           for kind, words_of, at in RECORDS
           for row in index.rows(kind) if row.get("customer") == customer_id]
    return sorted(out, key=lambda r: r["at"] or "", reverse=True)


def _row(kind: str, row: dict, words_of: str, at: str, hit: str | None) -> dict:
    status = row.get("status") if kind == "ticket" else None
    return {"kind": kind, "id": row.get("id"), "title": row.get(words_of), "status": status,
            "customer": row.get("customer"), "customer_name": row.get("customer_name"), "phone": None,
            "at": row.get(at), "open": (status in OPEN_STATUSES) if kind == "ticket" else None, "match": hit}


def customer_id(store: Store, value: str) -> str:
    """`--customer`: an ID, or a name or phone that names one customer (NotFound or UsageError with the
    candidates otherwise)."""
    value = str(value)  # (not stripped: "C0001 " is no ID, and no customer's name either)
    if store.kind_of(value) == "customer" and store.path_for("customer", value).exists():
        return value
    index = _index(store, ("customer",))
    digits = phone_key(value)
    key = name_key(value)
    docs = index.docs("customer")
    matches = [d for d in docs if key and name_key(d.get("name")) == key]
    if not matches and len(digits) >= MIN_PHONE_DIGITS and _PHONE_TEXT.match(value):
        matches = [d for d in docs if any(phone_key(p).endswith(digits) for p in phones(d))]
    if not matches and key:
        near = [d for d in docs if fold(value) in fold(d.get("name")) or key in name_key(d.get("name"))]
        if near:
            raise NotFound(f"no customer is called {value!r}; " + _listed(near, "did you mean"),
                           hint="give the ID (cslog find TEXT lists them)")
    if not matches:
        raise NotFound(f"unknown customer {value}", hint="cslog find TEXT looks customers up by name or phone; "
                       "cslog new customer --name NAME creates one")
    if len(matches) > 1:
        raise UsageError(f"{len(matches)} customers match {value!r}: " + _listed(matches, ""),
                         hint="give the ID of the one you mean")
    return str(matches[0]["id"])


def _listed(docs: list[dict], lead: str) -> str:
    shown = ", ".join(f"{d.get('id')} {d.get('name')}" + (f" ({', '.join(phones(d))})" if phones(d) else "")
                      for d in docs[:8])
    return (f"{lead} " if lead else "") + shown + (f" and {len(docs) - 8} more" if len(docs) > 8 else "")
