"""The period's figures: one source for `cslog report` and the Summary of `cslog export`.

facts (one ticket, and reading the period's records) -> figures (the period's numbers, the report as
data) -> sections (the numbers as labelled tables); the periods themselves are cslog.period.
"""
from cslog.period import Period, month_period, parse_period, quarter_period
from cslog.report.facts import Facts, records_in, unreadable
from cslog.report.figures import STREAK_DEFAULT, Report, build, streaks
from cslog.report.sections import Section, after_text, empty_text, row_format, row_values, sections, title_text

__all__ = [
    "STREAK_DEFAULT", "Facts", "Period", "Report", "Section", "after_text", "build", "empty_text", "month_period",
    "parse_period", "quarter_period", "records_in", "row_format", "row_values", "sections", "streaks",
    "title_text", "unreadable",
]
