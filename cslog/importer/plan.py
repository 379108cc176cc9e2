"""The whole import: the plan and its checks, preview or apply in one transaction (one commit), summary rows."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from cslog import privacy, schemas
from cslog.errors import UsageError
from cslog.ids import is_safe
from cslog.importer.rows import Entry, Row, RowProblem, RowReader, _Skip
from cslog.model import name_key, number_mark
from cslog.importer.values import time_value
from cslog.importer.sheet import Sheet, bind_columns, find_sheets, read_grid
from cslog.importer.vocab import (DEFAULTS, HEADERS, REQUIRED, guess_kind, header_index, load_mapping,
                                  normalise_header)
from cslog.model import IMPORT_KINDS as KINDS
from cslog.store import Store
from cslog.timeutil import fmt
from cslog.yamlio import canonical


# --- the plan ------------------------------------------------------------------------------------------

@dataclass
class Plan:
    source: str
    kind: str
    sheet: str | None
    rows: int = 0
    entries: list[Entry] = field(default_factory=list)
    customers: list[Entry] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    commit_id: str | None = None
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, the record it became before)
    foreign_ids: list[int] = field(default_factory=list)  # rows whose number is not a cslog ID (kept as a note)

    @property
    def bad_rows(self) -> list[str]:
        """The invalid rows, as messages name them: 7, or 9月:7 in a workbook of several sheets."""
        return [f"{src.partition('[')[2].rstrip(']')}:{row}" if "[" in src else str(row)
                for src, row in sorted({(p.source, p.row) for p in self.problems})]

    def without_invalid(self) -> "Plan":
        """The plan without the invalid rows, and without the new customers only those rows needed."""
        bad = {(p.source, p.row) for p in self.problems}
        entries = [e for e in self.entries if (e.source, e.row) not in bad]
        wanted = {e.customer_key for e in entries}
        customers = [c for c in self.customers if c.customer_key in wanted]
        return Plan(self.source, self.kind, self.sheet, self.rows, entries, customers, [], self.warnings,
                    skipped=self.skipped)


class Importer(RowReader):
    """Turns the rows of one sheet into a Plan (no writes); apply() writes it in one transaction."""

    # -- the whole sheet --

    def plan(self, path: Path, kind: str | None = None, sheet: str | None = None) -> Plan:
        source = path.name
        kind = kind or self.mapping.kind
        grids = read_grid(path, sheet or self.mapping.sheet)
        kinds = [kind] if kind else list(KINDS)
        indexes = [{**header_index(k), **self.mapping.columns} for k in kinds]
        sheets = find_sheets(grids, source, lambda h: any(normalise_header(h) in ix for ix in indexes))
        kind = kind or guess_kind([c.header for c in sheets[0].columns], self.mapping)
        left = [str(name) for name, rows in grids if rows and name not in {sh.name for sh in sheets}]
        plan = Plan(source=source, kind=kind, sheet=", ".join(str(sh.name) for sh in sheets if sh.name) or None)
        if left:
            plan.warnings.append(f"{source}: sheet(s) {', '.join(left)} have no header row cslog knows: left out "
                                 "(import one with --sheet NAME --mapping F.yaml)")
        self.year, yearless = sheet_year([cells for sh in sheets for _n, cells in sh.rows], self.now.year)
        if yearless:
            plan.warnings.append(f"{source}: dates written without a year ({yearless}) are taken as {self.year}, the "
                                 "year of the sheet's other dates (or this year's when it has none)")
        ids_seen: dict[str, int] = {}
        new_customers: dict[str, Entry] = {}
        prints: dict[str, str] = {}  # a row's fingerprint -> where it was first
        known = {**self.index.marks_from("row:"), **self.index.marks_from("num:")}  # what earlier imports brought
        work = []
        for found in sheets:  # every sheet with the table's headers (9月, 10月...), one plan
            plan.warnings += bind_columns(found, kind, self.mapping)
            self._require_columns(found, kind)
            where = f"{source}[{found.name}]" if len(sheets) > 1 else source
            work += [(found, where, number, cells) for number, cells in found.rows]
        when = time_value(self.tz, self.year)
        for found, where, number, cells in work:
            totals = _totals_row(cells)
            if totals:
                plan.warnings.append(f"{where}:{number}: a totals row ({totals}): left out")
                continue
            plan.rows += 1
            row = Row(where, number, cells, found.columns, self.mapping, DEFAULTS[kind])
            fingerprint = row_fingerprint(row, when)
            if fingerprint in prints:
                plan.warnings.append(f"{where}:{number}: the same as {prints[fingerprint]}, cell for cell "
                                     "(pasted twice?): skipped")
                continue
            prints[fingerprint] = f"row {number}" + (f" of {found.name}" if len(sheets) > 1 else "")
            if self._seen_before(row, kind, fingerprint, known, plan):
                continue
            if row.problems:  # formulas without saved values: what else the row says cannot be trusted
                plan.problems += row.problems
                continue
            self._guard_pii(row)
            try:
                if kind == "customer":
                    entry = self._customer_row(row)
                else:
                    customer_key = self._customer_of(row, new_customers, plan)
                    entry = self._ticket_row(row) if kind == "ticket" else self._contact_row(row)
                    if entry is not None:
                        entry.customer_key = customer_key
            except _Skip:
                entry = None
            plan.warnings += self.notes
            self.notes.clear()
            if row.problems or entry is None:
                plan.problems += row.problems
                continue
            self._keep_or_allocate(entry, row, ids_seen, plan)
            self._schema_problems(entry, row)
            if row.problems:
                plan.problems += row.problems
                continue
            self._mark_pii(entry)
            entry.source = where
            entry.doc["source"] = {"file": source, "sha256": fingerprint, **({"sheet": found.name} if found.name else {}),
                                   "row": number, **({"number": row.text("id")} if row.text("id") else {}),
                                   "at": fmt(self.now, self.tz)}
            plan.entries.append(entry)
            self.accept(row)
            if row.new_customer is not None:
                new_customers.setdefault(row.new_customer.customer_key, row.new_customer)
        plan.customers = list(new_customers.values())
        for customer in plan.customers:
            self._mark_pii(customer)
        if len(plan.foreign_ids) > 1:
            rows = ", ".join(str(r) for r in plan.foreign_ids[:8]) + (" ..." if len(plan.foreign_ids) > 8 else "")
            plan.warnings.append(f"{source}: {len(plan.foreign_ids)} rows in all (rows {rows}) have numbers that are "
                                 "no cslog IDs: new IDs allocated, each old number kept as 原编号")
        if not plan.rows:
            raise UsageError(f"{source}: no rows to import below the header row {found.header_row}")
        return plan

    def _seen_before(self, row: Row, kind: str, fingerprint: str, known: dict[str, str], plan: Plan) -> bool:
        """A row an earlier import brought (the same fingerprint, or the same sheet number for the same
        customer) is skipped and counted; a changed one is said not to be applied. A customer row whose customer
        exists is skipped the same way."""
        rid = known.get("row:" + fingerprint)
        number = row.text("id")
        if rid is None and number:
            who = row.text("customer_name") or row.text("customer") or row.text("customer_id")
            rid = known.get(number_mark(number, who))
            if rid is not None:
                plan.warnings.append(f"{row.source}:{row.number}: {number} was imported before as {rid}; what changed "
                                     f"in the row since is not applied (cslog set {rid} FIELD=VALUE, or cslog edit)")
        if rid is None and kind != "customer" and number and self._exists(number):
            rid = number  # a cslog ID the repository holds (an export of it, imported back)
        if rid is None and kind == "customer" and row.text("name"):
            rid = self._customers_by_name.get(name_key(row.text("name")))
        if rid is None:
            return False
        plan.skipped.append((row.number, rid))
        return True

    def _require_columns(self, sheet: Sheet, kind: str) -> None:
        have = {c.field for c in sheet.columns} | set(self.mapping.defaults) | set(DEFAULTS[kind])
        lacking = [f for f in REQUIRED[kind] if f not in have]
        if kind != "customer" and not have & {"customer", "customer_id", "customer_name"}:
            lacking.insert(0, "customer")
        if lacking:
            described = ", ".join(f"{f} ({'/'.join(HEADERS[kind].get(f, [f])[:2])})" for f in lacking)
            raise UsageError(f"{sheet.source}: no column for {described}",
                             hint="add the column, map yours with --mapping (columns: {表头: field}), or give a "
                                  "value for every row there (defaults: {field: value})")

    def _guard_pii(self, row: Row) -> None:
        if self.allow_pii:
            return
        for col, value in row.cells:
            if isinstance(value, (datetime, date, time, bool)):
                continue
            for finding in privacy.find_pii(str(value)):
                row.problems.append(RowProblem(row.source, row.number, col.where,
                                               f"looks like an {finding.label} ({finding.masked}); cslog does not "
                                               "store personal data (严禁记录客户敏感信息): remove it, or pass "
                                               "--allow-pii if the law requires keeping it"))

    def _mark_pii(self, entry: Entry) -> None:
        if not (self.allow_pii and privacy.scan(entry.doc)):
            return
        if entry.kind == "ticket":
            entry.doc["timeline"][0]["allow_pii"] = True
        else:
            entry.doc["allow_pii"] = {"at": fmt(self.now, self.tz), "by": self.actor}

    def _schema_problems(self, entry: Entry, row: Row) -> None:
        """A last check against the schema, so that nothing `cslog check` would reject is written."""
        doc = canonical({"id": entry.keep_id or _placeholder(entry.kind), **entry.doc}, schemas.key_order(entry.kind))
        if entry.kind != "customer" and not doc.get("customer"):
            doc["customer"] = "C0"  # created by this import
        for path, message in schemas.validate(doc, entry.kind):
            row.problem(None, message)

    # -- IDs --

    def _keep_or_allocate(self, entry: Entry, row: Row, seen: dict[str, int], plan: Plan) -> None:
        original = row.text("id")
        if not original:
            return
        fmt_ = self.store.id_format(entry.kind)
        reason = None
        if not is_safe(original) or fmt_.parse(original) is None:
            reason = f"is not a {entry.kind} ID of the form {self.store.settings.ids[entry.kind]}"
        elif original in seen:
            reason = f"appears again (row {seen[original]})"
        elif self._exists(original):
            reason = "already exists in the repository"
        if reason is None:
            seen[original] = row.number
            entry.keep_id = original
            return
        seen.setdefault(original, row.number)
        entry.note = f"原编号 {original}"
        if entry.kind == "ticket":
            created = entry.doc["timeline"][0]
            created["note"] = f"{created['note']}, 原编号 {original}"
        if reason.startswith("is not a"):  # the common case (a sheet's own numbering): one line for them all
            plan.foreign_ids.append(row.number)
            if len(plan.foreign_ids) > 1:
                return
        plan.warnings.append(f"{row.source}:{row.number}: {row.where('id')}: {original} {reason}; a new ID is "
                             "allocated")

    # -- writing --

    def preview(self, plan: Plan) -> Plan:
        """Fill in the IDs the import would give, as things stand (nothing is written)."""
        for kind, entries in (("customer", plan.customers), (plan.kind, plan.entries)):
            for entry, new_id in zip(entries, predict_ids(self.store, kind, entries)):
                entry.id = new_id
        self._link_customers(plan)
        return plan

    def apply(self, plan: Plan, commit: bool = True) -> Plan:
        """Write the plan in one transaction (one commit): new customers first, then the records; in each
        group the kept IDs first, so that an allocated ID never takes a number a later row keeps."""
        if not plan.entries:
            raise UsageError(f"{plan.source}: nothing to import")
        with self.store.transaction("import", self.actor, self.now, commit) as tx:
            for group in (plan.customers, plan.entries):
                for entry in group:
                    if entry.keep_id and self._exists(entry.keep_id):  # taken since the plan was made
                        entry.note = f"原编号 {entry.keep_id}"
                        entry.keep_id = None
                for entry in [e for e in group if e.keep_id] + [e for e in group if not e.keep_id]:
                    self._link_customers(plan, entry)
                    doc = entry.doc
                    record = tx.create(entry.kind, lambda new_id, doc=doc: {"id": new_id, **doc}, entry.moment,
                                       record_id=entry.keep_id)
                    entry.id = record.id
            for customer_id, phones in self.phones_added.items():  # a company's other numbers: never lost
                record = self.store.read(customer_id, "customer")
                known = {c.get("phone") for c in record.doc.get("contacts") or [] if isinstance(c, dict)}
                added = [{"phone": p} for p in dict.fromkeys(phones) if p not in known]
                if added:
                    tx.replace(record, {**record.doc, "contacts": list(record.doc.get("contacts") or []) + added})
            tx.summary = f"import {counts(plan)} from {plan.source}"
            made = {e.id for e in plan.entries}
            tx.records.sort(key=lambda rid: rid not in made)  # the subject names an imported record
        plan.commit_id = tx.commit_id
        return plan

    def _link_customers(self, plan: Plan, entry: Entry | None = None) -> None:
        ids = {c.customer_key: c.id for c in plan.customers}
        for item in [entry] if entry else plan.entries:
            if item.kind != "customer" and item.customer_key:
                item.doc["customer"] = ids.get(item.customer_key)


def sheet_year(rows: list[list[Any]], fallback: int) -> tuple[int, str | None]:
    """The year most of the sheet's full dates are in (else `fallback`), and a date written without one, if any."""
    from collections import Counter

    from cslog.importer.values import YEARLESS_CELL

    years: Counter = Counter()
    yearless = None
    for cells in rows:
        for value in cells:
            if isinstance(value, (datetime, date)):
                years[value.year] += 1
            elif isinstance(value, str):
                full = re.match(r"\s*(\d{4})\s*[年/.-]\s*\d{1,2}", value)
                if full and 1990 <= int(full.group(1)) <= 2100:
                    years[int(full.group(1))] += 1
                elif yearless is None and YEARLESS_CELL.match(value):
                    yearless = value.strip()[:16]
    return (years.most_common(1)[0][0] if years else fallback), yearless


_TOTALS = re.compile(r"^(本月|本期|本季|全年|当月)?(合计|总计|小计|共计|汇总|total|sum)(\s*[:：].*|\s*\d+\s*条?)?$",
                     re.IGNORECASE)


def _totals_row(cells: list[Any]) -> str | None:
    """A totals row's first words (合计, 本月合计, 合计：3条, Total...), else None."""
    first = next((c for c in cells if c not in (None, "")), None)
    text = str(first).strip().replace(" ", "") if first is not None else ""
    return str(first).strip() if _TOTALS.match(text) else None


def row_fingerprint(row: Row, when: Any) -> str:
    """What a row says, field by field, as one sha256: the same in a later import whatever the layout (other
    columns, another order, .csv or .xlsx, dates written otherwise), and for a row pasted twice."""
    import hashlib
    import json

    def text(fname: str, value: Any) -> str:
        if fname.endswith("_at") or isinstance(value, (datetime, date)):
            try:
                return when(value).isoformat(timespec="minutes")
            except Exception:  # noqa: BLE001 - not a date: its text, as for any cell
                pass
        return "" if value is None else str(value).strip()

    said = sorted((f, text(f, v)) for f, (v, col) in row._values.items() if col is not None and text(f, v))
    return hashlib.sha256(json.dumps(said, ensure_ascii=False).encode("utf-8")).hexdigest()


def counts(plan: Plan) -> str:
    def many(n: int, word: str) -> str:
        return f"{n} {word}{'s' if n != 1 else ''}"

    text = many(len(plan.entries), plan.kind)
    if plan.customers:
        text += ", " + many(len(plan.customers), "new customer")
    return text


def predict_ids(store: Store, kind: str, entries: list[Entry]) -> list[str]:
    """The IDs apply() gives: kept IDs as they are; the others as Store.create would allocate them after."""
    fmt_ = store.id_format(kind)
    station = store.settings.station
    taken = {e.keep_id for e in entries if e.keep_id}
    best: dict[Any, int] = {}
    out = []
    for entry in entries:
        if entry.keep_id:
            out.append(entry.keep_id)
            continue
        day = entry.moment.date() if fmt_.has_date else None
        if day not in best:
            _series, seq = store.next_seq(kind, entry.moment)
            start = seq - 1
            for kept in taken:
                parsed = fmt_.parse(kept)
                if parsed and parsed.station == station and parsed.day == day:
                    start = max(start, parsed.seq)
            best[day] = start
        best[day] += 1
        out.append(fmt_.render(best[day], entry.moment, station))
    return out


def _placeholder(kind: str) -> str:
    return {"ticket": "CW0", "contact": "GT0", "customer": "C0"}[kind]


def summary_rows(plan: Plan) -> list[dict]:
    """One line per record the import makes (new customers first), for tables and JSON."""
    rows = []
    for entry in plan.customers + plan.entries:
        doc = entry.doc
        rows.append({"row": entry.row, "kind": entry.kind, "id": entry.id,
                     "customer": doc.get("customer") if entry.kind != "customer" else None,
                     "title": doc.get("title") or doc.get("name") or doc.get("request"),
                     "status": doc.get("status"), "note": entry.note or None})
    return rows


def plan_import(store: Store, path: Path, *, actor: str, now: datetime, kind: str | None = None,
                mapping: Path | None = None, sheet: str | None = None, allow_pii: bool = False) -> tuple[Importer, Plan]:
    """Read and check the whole file; nothing is written."""
    importer = Importer(store, actor=actor, now=now, allow_pii=allow_pii,
                        mapping=load_mapping(mapping) if mapping else None)
    return importer, importer.plan(path, kind, sheet)
