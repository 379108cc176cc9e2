"""`cslog show`: one record, with a ticket's SLA clocks and its customer's account type and contact (masked), or
a customer's tickets and contacts, newest first."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cslog import privacy
from cslog.errors import CslogError
from cslog.model import CUSTOMER_TYPE
from cslog.store import Record, Store


@dataclass
class Shown:
    """A record as `cslog show` shows it: with a ticket's SLA clocks (or why they cannot be computed), and
    the moment until which a running clock counts as at risk."""

    record: Record
    clocks: list = field(default_factory=list)
    warn_until: datetime | None = None
    problem: str | None = None
    warnings: list[str] = field(default_factory=list)  # years of its clocks whose 调休 the calendar guesses
    records: list[dict] = field(default_factory=list)  # a customer's tickets and contacts, newest first
    customer: dict = field(default_factory=dict)  # a ticket's customer: account type (label), contact (masked)


def show(store: Store, record_id: str, now: datetime) -> Shown:
    from cslog import sla
    from cslog.calendar import CalendarError
    from cslog.config import error_at

    record = store.read(record_id)
    shown = Shown(record)
    if record.kind == "customer":
        from cslog.ops.find import customer_records

        shown.records = customer_records(store, record.id)
    if record.kind != "ticket":
        return shown
    shown.customer = _customer_of(store, record.doc)
    policy, calendar = store.policy(), store.calendar()
    try:
        shown.clocks = sla.clocks(record.doc, policy, calendar, now)
        shown.warn_until = calendar.add_duration(now, policy.warn_within)
        shown.warnings = calendar.unofficial_warnings({calendar.local(t).year for c in shown.clocks
                                                       for t in (c.started, c.due, c.stopped) if t is not None})
    except CalendarError as exc:
        raise error_at(store.where, f"calendar: {exc}") from None
    except ValueError as exc:
        shown.problem = str(exc)
    return shown


def _customer_of(store: Store, doc: dict) -> dict:
    """A ticket's customer as `show` adds it: the account type's label and the first contact, masked."""
    try:
        customer = store.read(str(doc.get("customer")), "customer").doc
    except CslogError:
        return {}
    contact = next((str(c.get("phone") or c.get("email")) for c in customer.get("contacts") or []
                    if isinstance(c, dict) and (c.get("phone") or c.get("email"))), None)
    out = {"type": CUSTOMER_TYPE.label(customer.get("type"), store.settings.language) or None,
           "contact": privacy.mask(contact) if contact else None}
    return {k: v for k, v in out.items() if v}
