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
           secrets: dict[str, str] | None = None) -> Notified:
    """Send what is new since the last run to every target; `secrets` stands in for os.environ (tests)."""
    from cslog.notify import messages, send
    from cslog.ops.overdue import find_overdue

    env = os.environ if secrets is None else secrets
    rows = find_overdue(store, at, within).rows
    done = Notified(items=len(rows))
    path = store.root / CACHE_DIR / STATE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    language = store.settings.language
    for target in store.settings.notify:
        name, kind = str(target.get("name")), str(target.get("type"))
        seen = state.get(name, {})
        fresh = [r for r in rows if seen.get(_key(r)) != _signature(r)]
        if not fresh:
            state[name] = {_key(r): _signature(r) for r in rows}  # (what is no longer listed is forgotten)
            continue
        out = messages.payloads(kind, fresh, language, messages.who_is_mentioned(store.settings.agents, kind))
        if dry_run:
            done.dry += [f"# {name} ({kind})\n" + (json.dumps(p, ensure_ascii=False, indent=2) if isinstance(p, dict)
                                                     else f"Subject: {p[0]}\n\n{p[1]}") for p in out]
            continue
        try:
            if kind == "email":
                login = {"user": env.get(str(target.get("user_env") or ""), ""),
                         "password": env.get(str(target.get("password_env") or ""), "")}
                for subject, body in out:
                    send.mail(name, target, login, subject, body, timeout=_timeout(target))
            else:
                url = env.get(str(target.get("url_env") or ""))
                if not url:
                    raise OperationalError(f"{name}: the environment variable {target.get('url_env')} (its webhook "
                                           "URL) is not set")
                if kind == "dingtalk":
                    url = send.signed(url, env.get(str(target.get("secret_env") or "")) or None)
                for payload in out:
                    send.post(name, url, payload, timeout=_timeout(target))
        except OperationalError as exc:
            done.failed.append(exc.message)
            continue
        done.sent[name] = len(out)
        state[name] = {_key(r): _signature(r) for r in rows}
    if not dry_run:
        from cslog.yamlio import write_atomic

        try:
            path.parent.mkdir(exist_ok=True)
            write_atomic(path, json.dumps(state, ensure_ascii=False, sort_keys=True))
        except OSError:
            pass  # (a read-only repository: the next run repeats what this one sent)
    return done


def _timeout(target: dict) -> float:
    """Seconds one attempt may take (the target's `timeout`, else send.TIMEOUT)."""
    from cslog.notify.send import TIMEOUT

    try:
        return float(target.get("timeout") or TIMEOUT)
    except (TypeError, ValueError):
        return TIMEOUT
