"""One cell into a value: enum codes, times (Excel dates and serials, written dates), scores, 是/否, names, phones."""
from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any, Callable

from cslog.errors import UsageError
from cslog.importer.vocab import NO, SCORE_WORDS, YES
from cslog.model import phone_normal
from cslog.timeutil import parse_time

_SPLIT = re.compile(r"[,，、;；\n]+")


def enum_value(enum, extra: dict[str, str] | None = None, strip: tuple[str, ...] = ()) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip()
        candidates = [text] + [text[: -len(s)] for s in strip if text.endswith(s) and len(text) > len(s)]
        for candidate in candidates:
            if extra and candidate in extra:
                return extra[candidate]
            try:
                return enum.parse(candidate)
            except UsageError:
                continue
        raise UsageError(f"unknown {enum.name} '{text}'",
                         hint=f"use one of: {enum.choices()}; or say what it means with --mapping F.yaml "
                              f"(values: {{{enum.key}: {{{text}: CODE}}}})")
    return parse


_TIME_WORDS = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*T?\s*"
                         r"(?:(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?\s*秒?)?\s*$")


_YEARLESS = re.compile(r"^\s*(\d{1,2})\s*[月/]\s*(\d{1,2})\s*日?")
_VAGUE = re.compile(r"\s*(之前|以前|前|左右)\s*$")
# a cell that is nothing but such a date (and a time, a range, 前): what sheet_year looks for in any column
YEARLESS_CELL = re.compile(_YEARLESS.pattern + r"\s*([\d:：\s~～至到—–-]*)(之前|以前|前|左右)?\s*$")


def time_value(tz, year: int | None = None) -> Callable[[Any], datetime]:
    """Cells as Excel holds them (dates), or text: ISO 8601, 2024-05-01 09:00, 2024/5/1 9:00, 2024年5月1日,
    18:00前; a date without its year (10月13日) takes `year` (the year of the sheet's other dates)."""
    def parse(value: Any) -> datetime:
        if isinstance(value, str):
            value = _VAGUE.sub("", value)
            if _YEARLESS.match(value):
                if year is None:
                    raise UsageError(f"'{value}' has no year", hint="write the year (2026年10月13日)")
                value = f"{year}年{value.strip()}"
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=tz)
        if isinstance(value, date):
            return datetime.combine(value, time(0), tz)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 < value < 80000:
            from openpyxl.utils.datetime import from_excel  # an Excel serial date copied as a number
            return from_excel(value).replace(tzinfo=tz)
        text = str(value).strip()
        m = _TIME_WORDS.match(text)
        if m:
            y, mo, d, hh, mm, ss = (int(g) if g else 0 for g in m.groups())
            try:
                return datetime(y, mo, d, hh, mm, ss, tzinfo=tz)
            except ValueError:
                raise UsageError(f"'{text}' is not a real date and time") from None
        try:
            return parse_time(text, tz)
        except UsageError:
            raise UsageError(f"cannot read '{text}' as a time",
                             hint="write it like 2024-05-01 09:00 or format the cell as a date") from None
    return parse


def score_value(value: Any) -> tuple[int, str | None]:
    """客户满意度 as a score 1-5 and an optional comment: 5, 5分, 4.0, 满意/一般/不满意, 不满意：等太久."""
    if isinstance(value, bool):
        raise UsageError(f"cannot read {value!r} as a score")
    if isinstance(value, (int, float)):
        if float(value).is_integer() and 1 <= value <= 5:
            return int(value), None
        raise UsageError(f"the score {value} is not a whole number from 1 to 5")
    text = str(value).strip()
    m = re.match(r"^([1-5])(?:\.0+)?\s*(?:分|/\s*5|星)?(?:$|\s*[,，:：;；(（\s-]\s*(.*?)[)）]?$)", text)
    if m:
        return int(m.group(1)), (m.group(2) or None)
    for word, score in SCORE_WORDS:
        if text.startswith(word):
            rest = text[len(word):].strip().lstrip(",，:：;；(（-").rstrip(")）").strip()
            return score, rest or None
    raise UsageError(f"cannot read '{text}' as a satisfaction score", hint="use 1-5 or 满意/一般/不满意")


def yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise UsageError(f"'{value}' is neither 是 nor 否")


def names(value: Any) -> list[str]:
    return [part.strip() for part in _SPLIT.split(str(value)) if part.strip()]


def derive_title(description: str) -> str:
    """A title from the customer's words: their first clause, without quotes, at most 30 characters."""
    quotes = "“”\"'‘’「」『』"
    text = description.strip().strip(quotes).strip()
    first = re.split(r"[，,。.!！?？；;\n]", text, maxsplit=1)[0].strip().strip(quotes).strip() or text
    return first if len(first) <= 30 else first[:29] + "…"


_STEP = re.compile(r"^(?:(\d{1,3})\s*[%％]\s*[:：]?)?\s*(.*?)\s*(?:[（(]\s*(\d{1,2})[:：](\d{2})\s*[)）])?\s*$", re.S)


def progress_steps(text: str) -> list[tuple[int | None, str, tuple[int, int] | None]]:
    """进度更新 like `50%:*强反馈为缓存问题(10:00);100%:清理缓存后恢复登录(12:30)` as (percent, text, (h, m))."""
    steps = []
    for piece in re.split(r"[;；\n]+", text):
        piece = piece.strip()
        if not piece:
            continue
        m = _STEP.match(piece)
        percent = int(m.group(1)) if m and m.group(1) else None
        body = (m.group(2) if m else piece).strip() or piece
        at = (int(m.group(3)), int(m.group(4))) if m and m.group(3) else None
        if percent is not None and percent > 100:
            percent, body = None, piece
        if at is not None and not (at[0] < 24 and at[1] < 60):
            at, body = None, piece
        steps.append((percent, body, at))
    return steps


def _contact_field(value: str | None) -> dict | None:
    if not value:
        return None
    return {"email": value} if "@" in value else {"phone": value}


_ROUNDED = re.compile(r"^\s*\d+(\.\d+)?[eE]\+?\d+\s*$")


def phone_value(value: Any) -> tuple[str, str | None]:
    """A phone number as the sheet holds it, in the stored form (model.phone_normal): (the number, what was done
    to it or None). A number cell has lost its leading 0, which comes back; UsageError for a number Excel
    rounded (1.38123E+10): the digits are gone."""
    if isinstance(value, float) or (isinstance(value, str) and _ROUNDED.match(value)):
        raise UsageError(f"{value} is a number Excel rounded: its last digits are lost",
                         hint="format the column as text (文本) in Excel or WPS, type the numbers again (or export "
                              "from the source system), save, and import again")
    if isinstance(value, int):
        digits = str(value)
        if 9 <= len(digits) <= 11 and not digits.startswith(("0", "1", "4", "8")) or \
                len(digits) == 10 and digits.startswith("10"):
            return phone_normal("0" + digits), "its leading 0 restored (a number cell drops it)"
    return phone_normal(value), None


_RANGE = re.compile(r"^(.*?)(\d{1,2}\s*[:：]\s*\d{2})\s*[-~～至到—–]\s*(\d{1,2}\s*[:：]\s*\d{2})\s*$")
_TURNS = re.compile(r"\s*(→|->|=>|—>)\s*")
_AFTER_WORDS = re.compile(r"^(沟通后|通话后|最后)?(转为|变为|转成|转|变成|变得)?")
_TICKED = re.compile(r"[（(]\s*勾选\s*[:：]\s*([^)）]+)[)）]")
_RESULT_PARTS = (("result_solution", "解决方案"), ("result_handler", "处理"), ("result_satisfaction", "客户满意度"),
                 ("result_comment", "客户评价"))


def seed_contact_cells(values: dict) -> None:
    """Seed 000's 沟通记录 as written: `2026年10月4日13:50-14:10` (start and end in one cell), `焦虑→沟通后转为平和`
    (the emotion before and after), `□满意…(勾选:满意)`, and its 处理情况 / 客户反馈 cells kept with the result.
    `values`: a row's {field: (value, column)}, changed in place."""
    start, col = values.get("started_at", (None, None))
    m = _RANGE.match(start) if isinstance(start, str) else None
    if m:
        values["started_at"] = (m.group(1) + m.group(2), col)
        if values.get("ended_at", (None, None))[0] in (None, ""):
            values["ended_at"] = (m.group(1) + m.group(3), col)
    feeling, col = values.get("emotion_before", (None, None))
    if isinstance(feeling, str) and _TURNS.search(feeling):
        first, _, last = _TURNS.split(feeling, maxsplit=1)
        values["emotion_before"] = (first.strip(), col)
        if values.get("emotion_after", (None, None))[0] in (None, ""):
            values["emotion_after"] = (_AFTER_WORDS.sub("", last.strip()) or None, col)
    parts = [str(values["result"][0]).strip()] if values.get("result", (None, None))[0] not in (None, "") else []
    for key, label in _RESULT_PARTS:
        value = values.pop(key, (None, None))[0]
        if value not in (None, ""):
            ticked = _TICKED.search(str(value))
            parts.append(f"{label}: {ticked.group(1).strip() if ticked else str(value).strip()}")
    if parts:
        values["result"] = ("; ".join(parts), values.get("result", (None, None))[1])
