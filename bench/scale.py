"""Scale benchmark: cslog's reading and writing commands on a large repository, each beside its floor.

    python bench/scale.py                 # 100,000 tickets, made by bench/generate.py on first use
    python bench/scale.py --n 20000 --runs 3

Every figure is the median wall time of --runs whole processes (python start-up included) and the peak
memory (max RSS) of the slowest-memory run, measured side by side in one run so that a busy machine
slows floors and commands alike. Floors: `git status --porcelain` on the same repository (what any tool
that notices edited files must at least do), bare yaml.CSafeLoader parsing of the same record files over
2 processes (what any cold scan must at least do), `python -c pass` (start-up).

The "overdue via index" line runs the index API the way `cslog overdue --format json` will once
slaview.find_overdue reads it (Index.ticket_clocks, then slaview's own row shaping): until then the
`overdue` lines measure the command as it is.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

PYTHON = sys.executable
CSLOG = [PYTHON, "-m", "cslog"]
NOW = "2026-12-01T10:00:00+08:00"


def timed(args: list[str], cwd: Path, env: dict | None = None, before=None) -> tuple[float, float, int]:
    """(seconds, peak MB, exit code) of one whole process."""
    if before:
        before()
    full = {**os.environ, "CSLOG_NOW": NOW, "CSLOG_NO_PROMPT": "1", **(env or {})}
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, env=full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{err}")
    return elapsed, usage.ru_maxrss / 1024, proc.returncode


def measure(label: str, args: list[str], cwd: Path, runs: int, before=None, env=None) -> dict:
    times, peaks = [], []
    for _ in range(runs):
        seconds, peak, _code = timed(args, cwd, env, before)
        times.append(seconds)
        peaks.append(peak)
    return {"label": label, "median": statistics.median(times), "min": min(times), "peak_mb": max(peaks),
            "runs": runs}


def drop_index(repo: Path):
    def drop() -> None:
        for suffix in ("", "-wal", "-shm"):
            (repo / ".cslog" / f"index.sqlite{suffix}").unlink(missing_ok=True)
    return drop


class HandEdit:
    """Before each run, edit a different ticket by hand (a new line in its description)."""

    def __init__(self, repo: Path):
        self.files = sorted((repo / "tickets").glob("2025/0[1-6]/*.yaml"))[:50]
        self.n = 0

    def __call__(self) -> None:
        path = self.files[self.n % len(self.files)]
        self.n += 1
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("\ntitle: ", f"\ntitle: 改{self.n}", 1), encoding="utf-8")


# --- probes (run as subprocesses of this file) -----------------------------------------------------

def probe_parse(repo: Path) -> None:
    """The floor of a cold scan: yaml.CSafeLoader over every record file, 2 forked processes, chunked."""
    import multiprocessing

    import yaml

    files = [str(p) for folder in ("tickets", "contacts") for p in (repo / folder).glob("*/*/*.yaml")]
    files += [str(p) for p in (repo / "customers").glob("*.yaml")]
    chunks = [files[i:i + 400] for i in range(0, len(files), 400)]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        count = sum(pool.imap_unordered(_parse_chunk, chunks))
    print(count)


def _parse_chunk(paths: list[str]) -> int:
    import yaml

    for path in paths:
        with open(path, encoding="utf-8") as f:
            yaml.load(f.read(), Loader=yaml.CSafeLoader)
    return len(paths)


def probe_clocks(repo: Path) -> None:
    """The index's own part of a warm `overdue`: open (compare every file), then the clocks due at NOW."""
    from datetime import datetime

    from cslog.index import Index
    from cslog.store import Store

    items = Index.open(Store.open(repo)).ticket_clocks(datetime.fromisoformat(NOW))
    print(sum(len(i.clocks or ()) for i in items))


def probe_overdue(repo: Path) -> None:
    """`cslog overdue --format json` as it will be with the index (slaview's row shaping on Index.ticket_clocks)."""
    from datetime import datetime

    from cslog import render, slaview
    from cslog.index import Index
    from cslog.store import Store

    store = Store.open(repo)
    now = datetime.fromisoformat(NOW)
    setup = slaview.sla_setup(store)
    rows, problems = [], []
    for item in Index.open(store).ticket_clocks(now):
        if item.problem:
            problems.append(item.problem)
            continue
        doc = item.fields if item.clocks is not None else item.doc
        clocks = item.clocks if item.clocks is not None else slaview._clocks_of(store, setup, item.doc, now,
                                                                                None, overdue=True)
        rows.extend(slaview._row(doc, c, now, setup.calendar.tz) for c in clocks)
    order = {kind: i for i, kind in enumerate(slaview.CLOCK_KINDS)}
    rows.sort(key=lambda r: (-r["overdue_minutes"], r["due"], str(r["id"]), order[r["kind"]]))
    sys.stdout.write(render.to_json(rows) + "\n")


# --- the run ----------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="tickets in the generated repository")
    parser.add_argument("--repo", type=Path, help="an existing repository to measure (default: generated)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold-runs", type=int, default=3, help="runs of the slow cold measurements")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--probe", choices=["parse", "overdue", "clocks"], help=argparse.SUPPRESS)
    parser.add_argument("--only", help="measure only the lines whose label contains this text")
    args = parser.parse_args(argv)
    repo = args.repo or Path(f"/tmp/cslog-bench-{args.n}")
    if args.probe == "parse":
        return probe_parse(repo)
    if args.probe == "overdue":
        return probe_overdue(repo)
    if args.probe == "clocks":
        return probe_clocks(repo)
    if not (repo / "cslog.yaml").exists():
        sys.path.insert(0, str(HERE))
        from generate import generate

        generate(repo, args.n, date(2026, 11, 30))
    runs, cold = args.runs, args.cold_runs
    me = [PYTHON, str(Path(__file__).resolve())]
    rows = []

    def pair(label, args_, floor, cwd=repo, before=None, n=runs):
        if args.only and args.only not in label:
            return
        rows.append((measure(label, args_, cwd, n, before), floor))
        print(f"  {label}: {rows[-1][0]['median']:.3f}s", file=sys.stderr)

    print(f"measuring {repo} ({runs} runs)...", file=sys.stderr)
    status = measure("git status --porcelain", ["git", "status", "--porcelain"], repo, runs)
    start = measure("python -c pass", [PYTHON, "-c", "pass"], repo, runs)
    parse = measure("bare CSafeLoader, 2 processes", me + ["--repo", str(repo), "--probe", "parse"], repo,
                    1 if args.only else cold)
    subprocess.run(CSLOG + ["reindex", "--changes"], cwd=repo, check=True, capture_output=True)
    pair("cslog --help", CSLOG + ["--help"], start)
    pair("cslog overdue --format json (as it is now)", CSLOG + ["overdue", "--format", "json"], status, n=1)
    pair("index open + ticket_clocks (warm)", me + ["--repo", str(repo), "--probe", "clocks"], status)
    pair("index open + ticket_clocks, one file edited by hand", me + ["--repo", str(repo), "--probe", "clocks"],
         status, before=HandEdit(repo))
    pair("overdue via index API (warm)", me + ["--repo", str(repo), "--probe", "overdue"], status)
    pair("overdue via index API, one file edited by hand", me + ["--repo", str(repo), "--probe", "overdue"], status,
         before=HandEdit(repo))
    pair("cslog list --open --format json (warm)", CSLOG + ["list", "--open", "--format", "json"], status)
    pair("cslog reindex (cold index)", CSLOG + ["reindex"], parse, n=cold)
    pair("overdue via index API (cold: no index)", me + ["--repo", str(repo), "--probe", "overdue"], parse,
         before=drop_index(repo), n=cold)
    subprocess.run(CSLOG + ["check"], cwd=repo, capture_output=True)
    pair("cslog check (nothing changed)", CSLOG + ["check"], status)
    pair("cslog check --no-cache (validates all)", CSLOG + ["check", "--no-cache"], parse, n=1)
    ticket = ["new", "ticket", "--customer", "C0001", "--type", "故障", "--priority", "紧急", "--channel", "phone",
              "--title", "压测工单", "--description", "压测:新建工单并提交"]
    pair("cslog new ticket (with its commit)", CSLOG + ticket, start)
    print_table(rows, [status, start, parse], repo)
    if args.json:
        args.json.write_text(json.dumps({"repo": str(repo), "floors": [status, start, parse],
                                         "rows": [{**r, "floor": f["label"], "ratio": r["median"] / f["median"]}
                                                  for r, f in rows]}, indent=2), encoding="utf-8")


def print_table(rows, floors, repo: Path) -> None:
    tickets = sum(1 for _ in (repo / "tickets").glob("*/*/*.yaml"))
    print(f"\n{tickets} tickets in {repo}; medians, whole processes\n")
    print(f"{'floor':48} {'median':>8} {'peak MB':>8}")
    for f in floors:
        print(f"{f['label']:48} {f['median']:8.3f} {f['peak_mb']:8.1f}")
    print(f"\n{'command':48} {'median':>8} {'peak MB':>8}  {'floor':32} {'ratio':>6}")
    for r, f in rows:
        print(f"{r['label']:48} {r['median']:8.3f} {r['peak_mb']:8.1f}  {f['label']:32} {r['median'] / f['median']:6.2f}")


if __name__ == "__main__":
    main()
