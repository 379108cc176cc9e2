"""How long `cslog sync` takes when many records come in: prints the figures.

    python bench/sync.py [--records 1000] [--both 50]

A bare remote and two clones made by `cslog init` + `git clone` + `cslog setup-git`. Clone B makes
--records new tickets (one commit, through the library: a thousand commands would measure `cslog new`)
and notes on --both tickets both clones hold, and syncs. Clone A makes one ticket of its own and a note
on the same --both tickets, then runs the real `cslog sync` (subprocess, wall clock): fetch, merge
(--both files through the merge driver, one process each), check of what goes out, push.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cslog.store import Store  # noqa: E402
from cslog.timeutil import fmt, zone  # noqa: E402

TZ = zone("Asia/Shanghai")
START = datetime(2026, 11, 2, 9, 0, tzinfo=TZ)


def cslog(repo: Path, *args: str, agent: str = "小明", now: datetime = START) -> str:
    env = {**os.environ, "CSLOG_AGENT": agent, "CSLOG_NOW": fmt(now), "CSLOG_NO_PROMPT": "1"}
    proc = subprocess.run([sys.executable, "-m", "cslog", "-C", str(repo), *args], env=env, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise SystemExit(f"cslog {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc.stdout.strip()


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def bulk_tickets(repo: Path, count: int, agent: str) -> None:
    """`count` tickets over the month's working hours, in one commit."""
    store = Store.open(repo)
    with store.transaction("bench", agent, START) as tx:
        for n in range(count):
            moment = START + timedelta(days=n % 20, minutes=(n * 7) % 480)
            at = fmt(moment)

            def build(new_id: str, at=at, n=n) -> dict:
                return {"id": new_id, "title": f"物流延误 第{n}单", "type": "complaint", "priority": "important",
                        "status": "in_progress", "channel": "phone", "customer": "C0001", "customer_name": "A公司",
                        "received_at": at,
                        "description": "客户反映包裹三天未更新物流信息,要求尽快处理。",
                        "category": "物流-延误", "owner": agent,
                        "timeline": [{"at": at, "by": agent, "kind": "created", "status": "new"},
                                     {"at": at, "by": agent, "kind": "status", "from": "new", "to": "in_progress"}]}

            tx.create("ticket", build, moment)
        tx.summary = f"{count} tickets"


def note_on(repo: Path, ids: list[str], agent: str, text: str, minute: int) -> None:
    """A note on each ticket, one commit (what a day of `cslog note` leaves, without a process each)."""
    import copy

    store = Store.open(repo)
    now = START + timedelta(days=25, minutes=minute)
    with store.transaction("note", agent, now) as tx:
        for tid in ids:
            record = store.read(tid, "ticket")
            doc = copy.deepcopy(record.doc)
            doc["timeline"].append({"at": fmt(now), "by": agent, "kind": "note", "text": text})
            tx.replace(record, doc)
        tx.summary = f"notes on {len(ids)} tickets"


def run(records: int, both: int, keep: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="cslog-bench-sync-"))
    try:
        seed = work / "seed"
        cslog(work, "init", str(seed), "--org", "bench")
        cslog(seed, "new", "customer", "--name", "A公司")
        bulk_tickets(seed, both, "小明")
        shared = sorted(p.stem for p in (seed / "tickets").rglob("*.yaml"))
        git(work, "clone", "-q", "--bare", str(seed), str(work / "remote.git"))
        a, b = work / "a", work / "b"
        for clone in (a, b):
            git(work, "clone", "-q", str(work / "remote.git"), str(clone))
            cslog(clone, "setup-git")
        bulk_tickets(b, records, "小红")
        if shared:
            note_on(b, shared, "小红", "B 已回电", minute=30)
        cslog(b, "sync", agent="小红")
        cslog(a, "new", "ticket", "--customer", "C0001", "--type", "fault", "--priority", "urgent", "--channel",
              "phone", "--title", "A 的工单", "--description", "无法登录", now=START + timedelta(days=25))
        if shared:
            note_on(a, shared, "小明", "A 已处理", minute=45)
        started = time.perf_counter()
        env = {**os.environ, "CSLOG_AGENT": "小明", "CSLOG_NOW": fmt(START + timedelta(days=26))}
        proc = subprocess.run([sys.executable, "-m", "cslog", "-C", str(a), "sync"], env=env, capture_output=True,
                              text=True)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"cslog sync failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
        incoming = records + len(shared)
        print(f"cslog sync: {elapsed:.2f} s for {incoming} incoming records ({records} new, {len(shared)} changed on "
              f"both clones and merged by the driver), 1 + {len(shared)} outgoing")
        for line in proc.stderr.splitlines():
            if line.startswith(("in:", "out:")):
                print("  " + line[:110])
        if keep:
            print(f"kept {work}")
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000, help="new tickets that come in (default 1000)")
    parser.add_argument("--both", type=int, default=0,
                        help="tickets changed on both clones, merged by the driver (default 0)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary repositories")
    args = parser.parse_args()
    run(args.records, args.both, args.keep)


if __name__ == "__main__":
    main()
