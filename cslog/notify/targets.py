"""What cslog.yaml's `notify:` may say: the target types, and the checks `cslog check` runs on them (a leaf: the
configuration imports it)."""
from __future__ import annotations

import re

WEBHOOKS = ("wecom", "dingtalk", "feishu")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
KINDS = WEBHOOKS + ("email",)


def target_problems(targets: object) -> list[tuple[tuple, str]]:
    """What is wrong with cslog.yaml's `notify:` (path, message); a secret written into it is refused."""
    if not isinstance(targets, list):
        return [(("notify",), "notify must be a list of targets {name, type, ...}")]
    problems: list[tuple[tuple, str]] = []
    for i, target in enumerate(targets):
        where = ("notify", i)
        if not isinstance(target, dict) or not target.get("name"):
            problems.append((where, f"a target needs a name and a type ({', '.join(KINDS)})"))
            continue
        if str(target["name"]).startswith("_"):
            problems.append((where + ("name",), "a target's name does not start with _ (cslog keeps its own state "
                                                "under such names)"))
        kind = target.get("type")
        if kind not in KINDS:
            problems.append((where + ("type",), f"unknown type {kind!r}: use {', '.join(KINDS)}"))
        for key in ("url", "webhook", "secret", "token", "password", "key"):
            if key in target:
                problems.append((where + (key,), f"a secret does not belong in cslog.yaml (it goes into git): name "
                                 f"an environment variable instead ({'url' if key == 'webhook' else key}_env: "
                                 "CSLOG_…)"))
        for key in ("url_env", "secret_env", "user_env", "password_env"):
            value = target.get(key)
            if value is not None and not (isinstance(value, str) and _ENV_NAME.match(value)):
                problems.append((where + (key,), f"{key} names an environment variable (such as CSLOG_WECOM_URL), "
                                 "not the value itself: a secret does not belong in cslog.yaml"))
        if target.get("smtp_port") is not None and not isinstance(target.get("smtp_port"), int):
            problems.append((where + ("smtp_port",), "smtp_port must be a number (465, or 587 with STARTTLS)"))
        if kind in WEBHOOKS and not target.get("url_env"):
            problems.append((where, f"{target['name']}: url_env names the environment variable with the webhook URL"))
        if kind == "email" and (not target.get("to") or not target.get("smtp_host")):
            problems.append((where, f"{target['name']}: an e-mail target needs to: [addresses] and smtp_host"))
    return problems
