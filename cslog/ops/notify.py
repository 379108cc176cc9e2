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


@dataclass
class Notified:
    items: int = 0  # what overdue listed
    sent: dict[str, int] = field(default_factory=dict)  # target -> messages sent
    failed: list[str] = field(default_factory=list)  # what went wrong, per target
    dry: list[str] = field(default_factory=list)  # --dry-run: the messages, as they would go


def _key(row: dict) -> str:
    return f"{row.get('id')}|{row.get('kind')}"


def _signature(row: dict) -> str:
    return f"{row.get('due')}|{row.get('status')}|{row.get('owner')}"


def notify(store: Store, at: datetime, within: Duration | timedelta | None = None, dry_run: bool = False,
           secrets: dict[str, str] | None = None, digest: bool = False, events: bool = False) -> Notified:
    """Send what is new since the last run to every target: what `overdue` lists, or (digest) the day's summary
    by owner, and (events) what happened to the people it concerns. `secrets` stands in for os.environ (tests)."""
    from cslog.notify import messages
    from cslog.ops.overdue import find_overdue

    env = os.environ if secrets is None else secrets
    path = store.root / CACHE_DIR / STATE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    language = store.settings.language
    rows = find_overdue(store, at, within).rows
    done = Notified(items=len(rows))
    extra: list[tuple[str, list[tuple[str, list]]]] = []  # (title, lines with the people they concern)
    if digest:
        from cslog.notify.summary import digest_lines

        since = _since(state.get("_digest_at"), at, timedelta(days=1))
        extra.append(digest_lines(store, since, at, rows, language))
    if events:
        from cslog.notify.summary import event_lines

        since = _since(state.get("_events_at"), at, timedelta(days=1))
        extra.append(event_lines(store, since, at, language))
    for target in store.settings.notify:
        name, kind = str(target.get("name")), str(target.get("type"))
        mentions = messages.who_is_mentioned(store.settings.agents, kind)
        seen = state.get(name, {})
        fresh = [] if digest else [r for r in rows if seen.get(_key(r)) != _signature(r)]
        out = messages.payloads(kind, fresh, language, mentions) if fresh else []
        out += [m for title, items in extra if items for m in messages.compose(kind, title, items, mentions)]
        if not out:
            if not digest:
                state[name] = {_key(r): _signature(r) for r in rows}  # (what is no longer listed is forgotten)
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
        if not digest:
            state[name] = {_key(r): _signature(r) for r in rows}
    if events and extra and extra[-1][1]:
        _mail_people(store, extra[-1], env, done, dry_run)
    if not dry_run:
        from cslog.timeutil import fmt
        from cslog.yamlio import write_atomic

        if digest and not done.failed:
            state["_digest_at"] = fmt(at, store.settings.tz)
        if events and not done.failed:
            state["_events_at"] = fmt(at, store.settings.tz)
        try:
            path.parent.mkdir(exist_ok=True)
            write_atomic(path, json.dumps(state, ensure_ascii=False, sort_keys=True))
        except OSError:
            pass  # (a read-only repository: the next run repeats what this one sent)
    return done


def _mail_people(store: Store, events: tuple[str, list[tuple[str, list]]], env, done: Notified, dry_run: bool) -> None:
    """Each person concerned whom cslog.yaml's agents give an e-mail also gets their own events by mail, through
    the first e-mail target's SMTP server."""
    server = next((t for t in store.settings.notify if t.get("type") == "email"), None)
    addresses = {a["name"]: a["email"] for a in store.settings.agents if a.get("email")}
    if server is None or not addresses:
        return
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
        raise OperationalError(f"{name}: the environment variable {target.get('url_env')} (its webhook URL) is not set")
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
