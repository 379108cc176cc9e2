"""`cslog calendar` as a table: one row per day off or make-up working day of the year."""
from __future__ import annotations

from cslog import labels
from cslog.calendar import WEEKDAY_NAMES
from cslog.render.text import table


def calendar_table(days: list[dict], language: str) -> str:
    """The days with labelled weekday, kind and source; '' when the year has none."""
    weekdays = labels.WEEKDAYS["zh" if language == "zh" else "en"]
    body = [[d["date"], weekdays[WEEKDAY_NAMES.index(d["weekday"])], labels.of(labels.DAY_KINDS, d["kind"], language),
             d["name"], labels.of(labels.DAY_SOURCES, d["source"], language)] for d in days]
    return table(body, [labels.say(pair, language) for pair in labels.CALENDAR_COLUMNS.values()])
