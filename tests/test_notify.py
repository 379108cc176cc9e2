"""`cslog notify` (issue 19, design 9.6) against a real HTTP server and a real SMTP server on localhost: each
platform's payload, @-mentions, the split of a long list, retries on a 500, a timeout, no repeats, the quiet case,
--dry-run, a secret refused in cslog.yaml."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import TICKET

LATE = "2026-11-25T10:00:00+08:00"


class Robot:
    """A group robot's webhook: records every POST; answers with the queued statuses, then 200."""

    def __init__(self):
        self.posts: list[tuple[str, dict]] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(robot.delay)
                status = robot.statuses.pop(0) if robot.statuses else 200
                if status == 200:
                    robot.posts.append((self.path, json.loads(body)))
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def robot():
    server = Robot()
    yield server
    server.server.shutdown()


@pytest.fixture
def smtp_server():
    """A real SMTP server on localhost (aiosmtpd): yields (port, what it received: (recipients, message text))."""
    pytest.importorskip("aiosmtpd")
    import socket

    from aiosmtpd.controller import Controller

    received: list = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            received.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
            return "250 OK"

    with socket.socket() as probe:  # a free port (aiosmtpd checks it is up by connecting to the port it was given)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


def configure(repo, targets: str, agents: str = "") -> None:
    path = repo / "cslog.yaml"
    text = path.read_text(encoding="utf-8").replace("notify: []\n", "notify:\n" + targets)
    if agents:
        text = text.replace("agents: []\n", "agents:\n" + agents)
    path.write_text(text, encoding="utf-8")


def late_tickets(cli, customer, n: int = 1) -> list[str]:
    out = []
    for i in range(n):
        tid = cli.ok(*TICKET, "--customer", customer)
        cli.ok("assign", tid, "小明")
        out.append(tid)
    return out


def test_each_platform_gets_its_own_payload_with_the_owner_mentioned(cli, repo, customer, robot, monkeypatch):
    configure(repo, "  - {name: 企微群, type: wecom, url_env: T_WECOM}\n"
                    "  - {name: 钉钉群, type: dingtalk, url_env: T_DING, secret_env: T_DING_SECRET}\n"
                    "  - {name: 飞书群, type: feishu, url_env: T_FEISHU}\n",
              "  - {id: a1, name: 小明, department: 客服部, mobile: '13800000001', feishu_id: ou_xiaoming}\n")
    for var, path in (("T_WECOM", "/wecom"), ("T_DING", "/ding?access_token=x"), ("T_FEISHU", "/feishu")):
        monkeypatch.setenv(var, robot.url + path)
    monkeypatch.setenv("T_DING_SECRET", "SEC123")
    tid = late_tickets(cli, customer)[0]
    result = cli("notify", "--at", LATE)
    assert result.exit_code == 0, result.stderr
    by_path = {path.split("?")[0]: (path, body) for path, body in robot.posts}
    wecom = by_path["/wecom"][1]
    assert wecom["msgtype"] == "text" and tid in wecom["text"]["content"]
    assert wecom["text"]["mentioned_mobile_list"] == ["13800000001"]
    ding_path, ding = by_path["/ding"]
    assert ding["msgtype"] == "markdown" and ding["at"]["atMobiles"] == ["13800000001"]
    assert "@13800000001" in ding["markdown"]["text"] and "timestamp=" in ding_path and "sign=" in ding_path
    feishu = by_path["/feishu"][1]
    assert feishu["msg_type"] == "text" and '<at user_id="ou_xiaoming"></at>' in feishu["content"]["text"]
    assert "超时" in feishu["content"]["text"] and "小明" in feishu["content"]["text"]


def test_quiet_no_repeats_and_dry_run(cli, repo, customer, robot, monkeypatch):
    configure(repo, "  - {name: 企微群, type: wecom, url_env: T_WECOM}\n")
    monkeypatch.setenv("T_WECOM", robot.url + "/w")
    quiet = cli("notify", "--at", "2026-11-22T14:31:00+08:00")
    assert quiet.exit_code == 0 and robot.posts == []  # nothing due: no request
    tid = late_tickets(cli, customer)[0]
    dry = cli("notify", "--at", LATE, "--dry-run")
    assert dry.exit_code == 0 and tid in dry.stdout and robot.posts == []
    cli.ok("notify", "--at", LATE)
    assert len(robot.posts) == 1
    cli.ok("notify", "--at", "2026-11-25T11:00:00+08:00")  # still late, nothing changed: not again
    assert len(robot.posts) == 1
    cli.ok("status", tid, "in_progress")  # its state changed: sent again
    cli.ok("notify", "--at", LATE)
    assert len(robot.posts) == 2


def test_a_long_list_is_split_to_the_platforms_limit(cli, repo, customer, robot, monkeypatch):
    configure(repo, "  - {name: 企微群, type: wecom, url_env: T_WECOM}\n")
    monkeypatch.setenv("T_WECOM", robot.url + "/w")
    tids = late_tickets(cli, customer, 12)
    cli.ok("notify", "--at", LATE)
    assert len(robot.posts) >= 2
    texts = [body["text"]["content"] for _path, body in robot.posts]
    assert all(len(t.encode()) <= 2048 for t in texts)
    assert all(any(tid in t for t in texts) for tid in tids)


def test_retries_on_a_500_and_a_failing_target_does_not_stop_the_others(cli, repo, customer, robot, monkeypatch):
    configure(repo, "  - {name: 坏群, type: feishu, url_env: T_BAD, timeout: 1}\n"
                    "  - {name: 企微群, type: wecom, url_env: T_WECOM}\n")
    monkeypatch.setenv("T_BAD", "http://127.0.0.1:9/none")
    monkeypatch.setenv("T_WECOM", robot.url + "/w")
    late_tickets(cli, customer)
    robot.statuses = [500, 500]  # two failures, then it answers
    result = cli("notify", "--at", LATE)
    assert result.exit_code == 3 and "坏群: could not send" in result.stderr
    assert len(robot.posts) == 1 and "企微群" not in result.stderr  # (what was sent is not said: cron mails it)


def test_a_timeout_is_a_failure_that_says_which_target(cli, repo, customer, robot, monkeypatch):
    configure(repo, "  - {name: 慢群, type: wecom, url_env: T_WECOM, timeout: 0.3}\n")
    monkeypatch.setenv("T_WECOM", robot.url + "/w")
    late_tickets(cli, customer)
    robot.delay = 1.0
    began = time.monotonic()
    result = cli("notify", "--at", LATE)
    assert result.exit_code == 3 and "慢群: could not send" in result.stderr
    assert time.monotonic() - began < 15


def test_a_secret_in_cslog_yaml_is_refused(cli, repo):
    configure(repo, "  - {name: 群, type: wecom, url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc'}\n")
    check = cli("check")
    assert check.exit_code == 1 and "a secret does not belong in cslog.yaml" in check.stdout


def test_email_through_a_real_smtp_server(cli, repo, customer, smtp_server):
    import email
    from email.header import decode_header, make_header

    port, received = smtp_server
    configure(repo, f"  - {{name: 主管, type: email, to: [lead@example.com], smtp_host: 127.0.0.1, "
                    f"smtp_port: {port}}}\n")
    tid = late_tickets(cli, customer)[0]
    result = cli("notify", "--at", LATE)
    assert result.exit_code == 0, result.stderr
    assert received and received[0][0] == ["lead@example.com"]
    message = email.message_from_string(received[0][1])
    assert str(make_header(decode_header(message["Subject"]))).startswith("工单超时提醒")
    assert tid in message.get_payload(decode=True).decode("utf-8")

def test_the_digest_sums_up_the_day_by_owner(cli, repo, customer, robot, monkeypatch):
    configure(repo, "  - {name: 企微群, type: wecom, url_env: T_WECOM}\n",
              "  - {id: a1, name: 小明, department: 客服部, mobile: '13800000001'}\n")
    monkeypatch.setenv("T_WECOM", robot.url + "/w")
    late_tickets(cli, customer, 2)
    result = cli("notify", "--digest", "--at", LATE)
    assert result.exit_code == 0, result.stderr
    text = robot.posts[0][1]["text"]["content"]
    assert text.startswith("工单日报") and "未结 2" in text and "超时 2" in text and "小明: 未结 2" in text
    assert robot.posts[0][1]["text"]["mentioned_mobile_list"] == ["13800000001"]


def test_events_reach_the_people_they_concern(cli, repo, customer, robot, monkeypatch):
    configure(repo, "  - {name: 钉钉群, type: dingtalk, url_env: T_DING}\n",
              "  - {id: a1, name: 小明, department: 客服部, mobile: '13800000001'}\n"
              "  - {id: a2, name: 小红, department: 客服部, mobile: '13800000002'}\n")
    monkeypatch.setenv("T_DING", robot.url + "/d")
    tid = cli.ok(*TICKET, "--customer", customer)
    cli.ok("--as", "小红", "assign", tid, "小明", "--collaborator", "小红")
    result = cli("notify", "--events", "--at", "2026-11-22T14:40:00+08:00")
    assert result.exit_code == 0, result.stderr
    bodies = [b for _p, b in robot.posts if b["markdown"]["title"].startswith("工单动态")]
    text = bodies[0]["markdown"]["text"]
    assert f"{tid} 分派给 小明" in text and f"{tid} 协助: 小红" in text
    assert sorted(bodies[0]["at"]["atMobiles"]) == ["13800000001", "13800000002"]
    again = cli("notify", "--events", "--at", "2026-11-22T14:45:00+08:00")
    assert again.exit_code == 0
    assert len([b for _p, b in robot.posts if b["markdown"]["title"].startswith("工单动态")]) == 1  # not again


def test_events_are_mailed_to_the_people_with_an_e_mail(cli, repo, customer, smtp_server):
    port, received = smtp_server
    configure(repo, f"  - {{name: 主管, type: email, to: [lead@example.com], smtp_host: 127.0.0.1, "
                    f"smtp_port: {port}}}\n",
              "  - {id: a1, name: 小明, department: 客服部, email: xiaoming@example.com}\n"
              "  - {id: a2, name: 小红, department: 客服部}\n")
    tid = cli.ok(*TICKET, "--customer", customer)
    cli.ok("--as", "小红", "assign", tid, "小明")
    result = cli("notify", "--events", "--at", "2026-11-22T14:40:00+08:00")
    assert result.exit_code == 0, result.stderr
    recipients = [to for to, _text in received]
    assert ["xiaoming@example.com"] in recipients and ["lead@example.com"] in recipients
    again = cli("notify", "--events", "--at", "2026-11-22T14:50:00+08:00")  # nothing new since: no mail at all
    assert again.exit_code == 0 and len(received) == len(recipients)


def test_a_warning_from_within_is_followed_by_the_breach(cli, repo, customer, robot, monkeypatch):
    configure(repo, "  - {name: 企微群, type: wecom, url_env: T_WECOM}\n")
    monkeypatch.setenv("T_WECOM", robot.url + "/w")
    late_tickets(cli, customer)  # urgent, received on a Sunday: response due Monday 10:00 (1bh)
    cli.ok("notify", "--at", "2026-11-23T09:40:00+08:00", "--within", "30m")
    assert "还剩" in robot.posts[-1][1]["text"]["content"]
    cli.ok("notify", "--at", "2026-11-23T10:10:00+08:00")
    assert "超时" in robot.posts[-1][1]["text"]["content"] and len(robot.posts) == 2


def test_a_broken_target_never_makes_the_others_repeat_events(cli, repo, customer, robot, monkeypatch):
    configure(repo, "  - {name: 坏群, type: wecom, url_env: T_BAD, timeout: 0.5}\n"
                    "  - {name: 好群, type: feishu, url_env: T_GOOD}\n")
    monkeypatch.setenv("T_BAD", "http://127.0.0.1:9/none")
    monkeypatch.setenv("T_GOOD", robot.url + "/f")
    tid = cli.ok(*TICKET, "--customer", customer)
    cli.ok("--as", "老周", "assign", tid, "小明")
    for minute in ("40", "45"):
        assert cli("notify", "--events", "--at", f"2026-11-22T14:{minute}:00+08:00").exit_code == 3
    events = [b for _p, b in robot.posts if "工单动态" in b["content"]["text"]]
    assert len(events) == 1  # the good group got them once


def test_a_webhook_that_is_no_url_or_a_url_written_into_url_env(cli, repo, customer, robot, monkeypatch):
    configure(repo, "  - {name: 群, type: wecom, url_env: T_WECOM}\n")
    monkeypatch.setenv("T_WECOM", "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRETKEY")
    late_tickets(cli, customer)
    result = cli("notify", "--at", LATE)
    assert result.exit_code == 3 and "SECRETKEY" not in result.stderr and "internal error" not in result.stderr
    path = repo / "cslog.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("url_env: T_WECOM", "url_env: 'https://x/?key=K1'"),
                    encoding="utf-8")
    check = cli("check")
    assert check.exit_code == 1 and "names an environment variable" in check.stdout and "K1" not in check.stdout
