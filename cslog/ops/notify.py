"""`cslog notify`: what `overdue` lists, sent to each target of cslog.yaml's `notify:` (cslog/notify/).

Quiet when there is nothing new to send (no request made). An item already sent to a target is not sent there
again until its state changes (its due, status or owner): what was sent is remembered in .cslog/notified.json,
so losing that file means one repeat, never a miss. One failing target does not stop the others; the command
says which failed (exit 3). Secrets (webhook URLs, DingTalk's signing secret, SMTP logins) come from the
environment variables the target names, never from the repository.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cslog.durations import Duration
from cslog.errors import OperationalError
from cslog.model import CACHE_DIR
from cslog.store import Store

STATE = "notified.json"
PEOPLE = "_people"  # the state's entry for the mails to the people concerned (target names never start with _)


@dataclass
class Notified:
    items: int = 0  # what overdue listed
    sent: dict[str, int] = field(default_factory=dict)  # target -> messages sent
    failed: list[str] = field(default_factory=list)  # what went wrong, per target
    dry: list[str] = field(default_factory=list)  # --dry-run: the messages, as they would go


def _key(row: dict) -> str:
    return f"{row.get('id')}|{row.get('kind')}"


def _signature(row: dict) -> str:
    """What makes an item worth sending again: its due, status, owner, and whether it is late yet (a warning
    from --within is followed by the breach)."""
    late = int(row.get("overdue_minutes") or 0) >= 0
    return f"{row.get('due')}|{row.get('status')}|{row.get('owner')}|{'late' if late else 'soon'}"


def notify(store: Store, at: datetime, within: Duration | timedelta | None = None, dry_run: bool = False,
           secrets: dict[str, str] | None = None, digest: bool = False, events: bool = False) -> Notified:
    """Send what is new since the last run to every target: what `overdue` lists, or (digest) the day's summary
    by owner, and (events) what happened to the people it concerns. `secrets` stands in for os.environ (tests)."""
    from cslog.notify import messages
    from cslog.ops.overdue import find_overdue
    from cslog.timeutil import fmt

    env = os.environ if secrets is None else secrets
    path = store.root / CACHE_DIR / STATE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    language = store.settings.language
    from cslog.index import Index

    index = Index.open(store, kinds=("ticket", "contact", "action"))  # (one scan for the rows, digest and events)
    rows = find_overdue(store, at, within, index=index).rows
    done = Notified(items=len(rows))
    stamp = fmt(at, store.settings.tz)
    made: dict[tuple, tuple] = {}  # (what, since) -> (title, lines): one computation per distinct last run

    def lines_since(what: str, last: object) -> tuple[str, list]:
        from cslog.notify.summary import digest_lines, event_lines

        since = _since(last, at, timedelta(days=1))
        if (what, since) not in made:
            made[(what, since)] = (digest_lines(store, index, since, at, rows, language) if what == "digest"
                                   else event_lines(store, index, since, at, language))
        return made[(what, since)]

    for target in store.settings.notify:
        name, kind = str(target.get("name")), str(target.get("type"))
        mentions = messages.who_is_mentioned(store.settings.agents, kind)
        seen = dict(state.get(name) or {})
        fresh = [] if digest else [r for r in rows if seen.get(_key(r)) != _signature(r)]
        out = messages.payloads(kind, fresh, language, mentions) if fresh else []
        for what, wanted in (("digest", digest), ("events", events)):
            if wanted:  # since this target's own last run of it: a failed target never makes the others repeat
                title, items = lines_since(what, seen.get(f"_{what}_at"))
                out += messages.compose(kind, title, items, mentions, counted=what != "digest") if items else []
        kept = {k: v for k, v in seen.items() if k.startswith("_")}
        if not out:
            state[name] = {**({} if digest else {_key(r): _signature(r) for r in rows}), **kept}
            continue
        if dry_run:
            done.dry += [f"# {name} ({kind})\n" + (json.dumps(p, ensure_ascii=False, indent=2) if isinstance(p, dict)
                                                     else f"Subject: {p[0]}\n\n{p[1]}") for p in out]
            continue
        try:
            _deliver(name, kind, target, out, env)
        except OperationalError as exc:
            done.failed.append(exc.message)
            continue
        done.sent[name] = len(out)
        sent = {f"_{what}_at": stamp for what, wanted in (("digest", digest), ("events", events)) if wanted}
        state[name] = {**(seen if digest else {_key(r): _signature(r) for r in rows}), **kept, **sent}
    if events:  # the people concerned, by mail, since their own last run (not any target's)
        title, items = lines_since("events", (state.get(PEOPLE) or {}).get("_events_at"))
        if items and _mail_people(store, (title, items), env, done, dry_run) and not dry_run:
            state[PEOPLE] = {"_events_at": stamp}
    if not dry_run:
        from cslog.yamlio import write_atomic

        try:
            path.parent.mkdir(exist_ok=True)
            write_atomic(path, json.dumps(state, ensure_ascii=False, sort_keys=True))
        except OSError:
            pass  # (a read-only repository: the next run repeats what this one sent)
    return done


def _mail_people(store: Store, events: tuple[str, list[tuple[str, list]]], env, done: Notified, dry_run: bool) -> bool:
    """Each person concerned whom cslog.yaml's agents give an e-mail also gets their own events by mail, through
    the first e-mail target's SMTP server; whether every mail went (so the next run starts from now)."""
    server = next((t for t in store.settings.notify if t.get("type") == "email"), None)
    addresses = {a["name"]: a["email"] for a in store.settings.agents if a.get("email")}
    if server is None or not addresses:
        return False
    sent_all = True
    title, items = events
    for person, address in sorted(addresses.items()):
        mine = [(text, [person]) for text, people in items if person in people]
        if not mine:
            continue
        target = {**server, "name": f"{person} <{address}>", "to": [address]}
        from cslog.notify import messages

        out = messages.compose("email", title, mine, {})
        if dry_run:
            done.dry += [f"# {target['name']} (email)\nSubject: {subject}\n\n{body}" for subject, body in out]
            continue
        try:
            _deliver(target["name"], "email", target, out, env)
            done.sent[target["name"]] = len(out)
        except OperationalError as exc:
            done.failed.append(exc.message)
            sent_all = False
    return sent_all


def _since(stamp: object, at: datetime, default: timedelta) -> datetime:
    """When the last run of this kind was (the state's stamp), else `default` before `at`."""
    from cslog.timeutil import instant

    try:
        return instant(str(stamp), at.tzinfo) if stamp else at - default
    except ValueError:
        return at - default


def _deliver(name: str, kind: str, target: dict, out: list, env) -> None:
    """Post (or mail) one target's messages; OperationalError naming the target when it fails."""
    from cslog.notify import send

    if kind == "email":
        login = {"user": env.get(str(target.get("user_env") or ""), ""),
                 "password": env.get(str(target.get("password_env") or ""), "")}
        for subject, body in out:
            send.mail(name, target, login, subject, body, timeout=_timeout(target))
        return
    url = env.get(str(target.get("url_env") or ""))
    if not url:
        raise OperationalError(f"{name}: its webhook URL is not in the environment (url_env names the variable)")
    if not url.startswith(("https://", "http://")):
        raise OperationalError(f"{name}: the environment variable {target.get('url_env')} holds no http(s) URL")
    if kind == "dingtalk":
        url = send.signed(url, env.get(str(target.get("secret_env") or "")) or None)
    for payload in out:
        send.post(name, url, payload, timeout=_timeout(target))


def _timeout(target: dict) -> float:
    """Seconds one attempt may take (the target's `timeout`, else send.TIMEOUT)."""
    from cslog.notify.send import TIMEOUT

    try:
        return float(target.get("timeout") or TIMEOUT)
    except (TypeError, ValueError):
        return TIMEOUT
