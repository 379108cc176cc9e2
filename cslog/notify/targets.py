"""What cslog.yaml's `notify:` may say: the target types, and the checks `cslog check` runs on them (a leaf: the
configuration imports it)."""
from __future__ import annotations

WEBHOOKS = ("wecom", "dingtalk", "feishu")
KINDS = WEBHOOKS + ("email",)


def target_problems(targets: object) -> list[tuple[tuple, str]]:
    """What is wrong with cslog.yaml's `notify:` (path, message); a secret written into it is refused."""
    if not isinstance(targets, list):
        return [(("notify",), "notify must be a list of targets {name, type, ...}")]
    problems: list[tuple[tuple, str]] = []
    for i, target in enumerate(targets):
        where = ("notify", i)
        if not isinstance(target, dict) or not target.get("name"):
            problems.append((where, "a target needs a name and a type (wecom, dingtalk, feishu, email)"))
            continue
        kind = target.get("type")
        if kind not in KINDS:
            problems.append((where + ("type",), f"unknown type {kind!r}: use wecom, dingtalk, feishu or email"))
        for key in ("url", "webhook", "secret", "token", "password", "key"):
            if key in target:
                problems.append((where + (key,), f"a secret does not belong in cslog.yaml (it goes into git): name "
                                 f"an environment variable instead ({'url' if key == 'webhook' else key}_env: "
                                 "CSLOG_…)"))
        if kind in WEBHOOKS and not target.get("url_env"):
            problems.append((where, f"{target['name']}: url_env names the environment variable with the webhook URL"))
        if kind == "email" and (not target.get("to") or not target.get("smtp_host")):
            problems.append((where, f"{target['name']}: an e-mail target needs to: [addresses] and smtp_host"))
    return problems
