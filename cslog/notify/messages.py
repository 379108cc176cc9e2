"""The messages of one run for one target: lines of text (most late first), split to the platform's size limit,
wrapped in the platform's JSON (WeCom text, DingTalk markdown, Feishu text) or as an e-mail's text."""
from __future__ import annotations

from typing import Any, Iterable

from cslog import labels
from cslog.render.overdue import late_phrase
from cslog.model import PRIORITY

# What one message may carry (bytes of its text): the platforms' documented limits, with room to spare.
LIMITS = {"wecom": 2048, "dingtalk": 18000, "feishu": 18000, "email": 1_000_000}  # (Feishu: 20 KB a request)
MAX_LINE = 300  # characters of one line (a title can be long)


def lines(rows: list[dict], language: str) -> list[str]:
    """One line per overdue row: ID, clock, how late, priority, owner, title."""
    out = []
    for row in rows:
        late = late_phrase(int(row.get("overdue_minutes") or 0), language)
        clock = labels.of(labels.CLOCKS, row.get("kind"), language)
        who = row.get("owner") or labels.say(labels.NOTIFY["unclaimed"], language)
        prio = PRIORITY.label(row.get("priority"), language) if row.get("priority") else ""
        out.append(" · ".join(p for p in (str(row.get("id")), clock, late, prio, who, str(row.get("title") or "")) if p))
    return out


def chunks(items: list[str], limit: int, head: str) -> list[list[str]]:
    """The lines in groups whose text (with the heading) stays under `limit` bytes."""
    groups: list[list[str]] = [[]]
    size = len(head.encode())
    for item in items:
        need = len(item.encode()) + 1
        if groups[-1] and size + need > limit:
            groups.append([])
            size = len(head.encode())
        groups[-1].append(item)
        size += need
    return groups


def payloads(kind: str, rows: list[dict], language: str, mentions: dict[str, str]) -> list[Any]:
    """The overdue messages for one target of this type: JSON objects to post, or (subject, body) for e-mail.
    `mentions`: owner name -> the mobile or user id the platform @-mentions them by."""
    return compose(kind, labels.say(labels.NOTIFY["overdue"], language), list(zip(lines(rows, language), ([r.get("owner")] for r in rows))),
                   mentions)


def compose(kind: str, title: str, items: list[tuple[str, list]], mentions: dict[str, str],
            counted: bool = True) -> list[Any]:
    """Messages of (line, the people it concerns) under a title, split to the platform's limit (room kept for
    the mentions and the markup; a very long line is cut), the people of each message @-mentioned where the
    platform allows. `counted`: the title says how many lines."""
    texts = [text if len(text) <= MAX_LINE else text[:MAX_LINE - 1] + "…" for text, _people in items]
    room = LIMITS[kind] - 40 * min(len(mentions), 50) - 1000
    groups = chunks([f"- {t}" if kind == "dingtalk" else t for t in texts], room, title)
    groups = [[t[2:] if kind == "dingtalk" else t for t in g] for g in groups]
    out: list[Any] = []
    at = 0
    for n, group in enumerate(groups, 1):
        head = title + (f" ({len(items)})" if counted else "") + (f" {n}/{len(groups)}" if len(groups) > 1 else "")
        concerned = sorted({p for _text, people in items[at:at + len(group)] for p in people if p})
        at += len(group)
        ids = [mentions[p] for p in concerned if p in mentions]
        if kind == "wecom":  # text: the type that @-mentions by mobile (markdown cannot)
            out.append({"msgtype": "text", "text": {"content": head + "\n" + "\n".join(group),
                                                    "mentioned_mobile_list": ids}})
        elif kind == "dingtalk":
            body = f"### {head}\n\n" + "\n".join(f"- {line}" for line in group) + "".join(f" @{i}" for i in ids)
            out.append({"msgtype": "markdown", "markdown": {"title": head, "text": body},
                        "at": {"atMobiles": ids, "isAtAll": False}})
        elif kind == "feishu":
            mention = "".join(f'<at user_id="{i}"></at>' for i in ids)
            out.append({"msg_type": "text", "content": {"text": head + "\n" + "\n".join(group)
                                                        + ("\n" + mention if mention else "")}})
        else:
            out.append((head, "\n".join(group) + "\n"))
    return out


def who_is_mentioned(agents: Iterable[dict], kind: str) -> dict[str, str]:
    """Agent name -> what the platform mentions them by (mobile for WeCom and DingTalk, feishu_id for Feishu)."""
    key = "feishu_id" if kind == "feishu" else "mobile"
    return {a["name"]: str(a[key]) for a in agents if a.get(key)}
