"""Sending: a JSON POST to a group robot's webhook (urllib), or an e-mail (smtplib, TLS), each with a timeout and
a few retries. A failure is an OperationalError naming the target; the caller goes on with the others."""
from __future__ import annotations

import json
import time
from typing import Any

from cslog.errors import OperationalError

TIMEOUT = 10.0
ATTEMPTS = 3


def post(name: str, url: str, payload: dict, attempts: int = ATTEMPTS, timeout: float = TIMEOUT) -> None:
    """POST the payload; a 5xx, a timeout or a refused connection is tried again, a platform error is not."""
    import urllib.error
    import urllib.request

    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    last = ""
    try:
        request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json; charset=utf-8"})
    except ValueError:  # (not a URL: never said, it may hold a secret)
        raise OperationalError(f"{name}: its webhook URL is not a valid http(s) URL") from None
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = response.read().decode("utf-8", "replace")
            _platform_ok(name, body)
            return
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
            if exc.code < 500:
                break
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        time.sleep(min(0.5 * 2 ** attempt, 4))
    raise OperationalError(f"{name}: could not send ({last})")


def _platform_ok(name: str, body: str) -> None:
    """The robots answer 200 with their own error code: errcode (WeCom, DingTalk) or code (Feishu), 0 is fine."""
    try:
        answer = json.loads(body) if body.strip() else {}
    except ValueError:
        return
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0))) if isinstance(answer, dict) else 0
    if code not in (0, None):
        message = answer.get("errmsg") or answer.get("msg") or ""
        raise OperationalError(f"{name}: the robot refused the message ({code} {message})".rstrip())


def signed(url: str, secret: str | None, now_ms: int | None = None) -> str:
    """DingTalk's signed webhook: timestamp and sign (HMAC-SHA256 of 'timestamp\\nsecret') added to the URL."""
    if not secret:
        return url
    import base64
    import hashlib
    import hmac
    import urllib.parse

    stamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={stamp}&sign={sign}"


def mail(name: str, target: dict[str, Any], secrets: dict[str, str], subject: str, body: str,
         attempts: int = ATTEMPTS, timeout: float = TIMEOUT) -> None:
    """An e-mail to the target's `to` list over SMTP: TLS from the start on port 465, STARTTLS when the server
    offers it otherwise; login when the target names a user."""
    import smtplib
    import ssl
    from email.message import EmailMessage

    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = target.get("from") or secrets.get("user") or "cslog@localhost"
    message["To"] = ", ".join(target.get("to") or [])
    message.set_content(body)
    host = str(target.get("smtp_host"))
    try:
        port = int(target.get("smtp_port") or 465)
    except (TypeError, ValueError):
        raise OperationalError(f"{name}: smtp_port must be a number (465, or 587 with STARTTLS)") from None
    last = ""
    for attempt in range(attempts):
        try:
            context = ssl.create_default_context()
            smtp = (smtplib.SMTP_SSL(host, port, timeout=timeout, context=context) if port == 465 else
                    smtplib.SMTP(host, port, timeout=timeout))
            with smtp:
                if port != 465:
                    smtp.ehlo()  # (has_extn knows nothing before it)
                    if smtp.has_extn("starttls"):
                        smtp.starttls(context=context)
                        smtp.ehlo()
                if secrets.get("user"):
                    smtp.login(secrets["user"], secrets.get("password", ""))
                smtp.send_message(message)
            return
        except (smtplib.SMTPException, OSError) as exc:
            last = str(exc) or type(exc).__name__
            time.sleep(min(0.5 * 2 ** attempt, 4))
    raise OperationalError(f"{name}: could not mail ({last})")
