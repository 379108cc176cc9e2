"""Scale benchmark: cslog's reading and writing commands on a large repository, each beside its floor.

    python bench/scale.py                 # 100,000 tickets (3 % open), made by bench/generate.py on first use
    python bench/scale.py --stress        # 100,000 tickets, a third open (tens of thousands of overdue rows)
    python bench/scale.py --n 20000 --runs 3
    python bench/scale.py --repo DIR --only overdue

Every figure is the median wall time of --runs whole processes (python start-up included, the .pyc files
compiled first, as pip install does) and the peak memory (max RSS) of the most memory-hungry run, measured
side by side in one run so that a busy machine slows floors and commands alike. Floors: `git status
--porcelain` on the same repository (what any tool that notices edited files must at least do), bare
yaml.CSafeLoader parsing of the same record files over 2 processes (what any cold scan must at least do),
`python -c pass` (start-up), and bare openpyxl write-only of the exported workbook's cells (export). Some
lines are also held against another command (the table against JSON, a cold check against a cold index).
The repository is put back as it was (the hand edits and new tickets the lines make are reset) at the end.
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
MONTH = "2026-10"  # the month report and export measure
OWNER = "小王"  # an agent of bench/generate.py


def timed(args: list[str], cwd: Path, env: dict | None = None, before=None) -> tuple[float, float, int]:
    """(seconds, peak MB, exit code) of one whole process."""
    if before:
        before()
    full = {**os.environ, "CSLOG_NOW": NOW, "CSLOG_NO_PROMPT": "1", **(env or {})}
    full.pop("PYTHONDONTWRITEBYTECODE", None)
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


def probe_cells(repo: Path) -> None:
    """Collect the exported month's cells once (not timed) for the bare-openpyxl floor."""
    import pickle

    from cslog import export, report
    from cslog.store import Store
    from cslog.timeutil import parse_time

    store = Store.open(repo)
    contents = export.collect(store, report.month_period(MONTH), parse_time(NOW, store.settings.tz))
    (repo / ".cslog" / "bench-cells.pickle").write_bytes(pickle.dumps(contents))


def probe_bare_write(repo: Path) -> None:
    """The export floor: the same cells written by bare openpyxl write-only (bench/export.py's bare_write)."""
    import pickle

    sys.path.insert(0, str(HERE))
    from export import bare_write

    contents = pickle.loads((repo / ".cslog" / "bench-cells.pickle").read_bytes())
    bare_write(repo / ".cslog" / "bench-bare.xlsx", contents)


# --- the run ----------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="tickets in the generated repository")
    parser.add_argument("--repo", type=Path, help="an existing repository to measure (default: generated)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold-runs", type=int, default=3, help="runs of the slow cold measurements")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--probe", choices=["parse", "cells", "bare-write"], help=argparse.SUPPRESS)
    parser.add_argument("--only", help="measure only the lines whose label contains this text")
    parser.add_argument("--warm", action="store_true", help="leave out the cold lines (minutes at 100,000)")
    parser.add_argument("--stress", action="store_true", help="generate a third of the tickets open")
    args = parser.parse_args(argv)
    repo = args.repo or Path(f"/tmp/cslog-bench-{args.n}{'-stress' if args.stress else ''}")
    if args.probe:
        return {"parse": probe_parse, "cells": probe_cells, "bare-write": probe_bare_write}[args.probe](repo)
    if not (repo / "cslog.yaml").exists():
        sys.path.insert(0, str(HERE))
        from generate import OPEN_SHARE, STRESS_SHARE, generate

        generate(repo, args.n, date(2026, 11, 30), open_share=STRESS_SHARE if args.stress else OPEN_SHARE)
    compile_cslog()
    start = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    try:
        run(args, repo)
    finally:  # the hand edits and new tickets of the lines above, undone
        if start:
            subprocess.run(["git", "reset", "-q", "--hard", start], cwd=repo, check=True)


def run(args, repo: Path) -> None:
    runs, cold = args.runs, args.cold_runs
    me = [PYTHON, str(Path(__file__).resolve()), "--repo", str(repo), "--probe"]
    rows = []

    def wanted(label: str) -> bool:
        if args.warm and ("cold" in label or "no-cache" in label):
            return False
        return not args.only or args.only in label

    def pair(label, args_, floor, before=None, n=runs):
        if not wanted(label):
            return None
        rows.append((measure(label, args_, repo, n, before), floor))
        print(f"  {label}: {rows[-1][0]['median']:.3f}s", file=sys.stderr)
        return rows[-1][0]

    def against(label, line, other):
        """A measured line held against another command's line too."""
        if line is not None and other is not None:
            rows.append(({**line, "label": label}, other))

    print(f"measuring {repo} ({runs} runs)...", file=sys.stderr)
    status = measure("git status --porcelain", ["git", "status", "--porcelain"], repo, runs)
    start = measure("python -c pass", [PYTHON, "-c", "pass"], repo, runs)
    floors = [status, start]
    if wanted("cold") or wanted("no-cache"):
        parse = measure("bare CSafeLoader, 2 processes", me + ["parse"], repo, cold)
        floors.append(parse)
    subprocess.run(CSLOG + ["reindex", "--changes"], cwd=repo, check=True, capture_output=True)
    pair("cslog --help", CSLOG + ["--help"], start)
    json_line = pair("cslog overdue --format json (warm)", CSLOG + ["overdue", "--format", "json"], status)
    table_line = pair("cslog overdue (table; warm)", CSLOG + ["overdue"], status)
    against("cslog overdue (table, against json)", table_line, json_line)
    pair("cslog overdue, one file edited by hand", CSLOG + ["overdue"], status, before=HandEdit(repo))
    pair("cslog overdue --owner (one agent's; warm)", CSLOG + ["overdue", "--owner", OWNER], status)
    pair("cslog list --open (table; warm)", CSLOG + ["list", "--open"], status)
    pair("cslog list --open --format json (warm)", CSLOG + ["list", "--open", "--format", "json"], status)
    pair("cslog report --month (warm)", CSLOG + ["report", "--month", MONTH, "--format", "json"], status)
    if wanted("export"):
        subprocess.run(me + ["cells"], cwd=repo, check=True)
        bare = measure("bare openpyxl write-only, same cells", me + ["bare-write"], repo, runs)
        floors.append(bare)
        pair("cslog export --month (warm)", CSLOG + ["export", "--month", MONTH, "-o", ".cslog/bench.xlsx"], bare)
    subprocess.run(CSLOG + ["check"], cwd=repo, capture_output=True)
    pair("cslog check (nothing changed)", CSLOG + ["check"], status)
    pair("cslog check, one file edited by hand", CSLOG + ["check"], status, before=HandEdit(repo))
    if wanted("cold") or wanted("no-cache"):
        cold_index = pair("cslog reindex (cold index)", CSLOG + ["reindex"], parse, n=cold)
        pair("cslog overdue (cold: no index)", CSLOG + ["overdue"], parse, before=drop_index(repo), n=cold)
        subprocess.run(CSLOG + ["reindex"], cwd=repo, check=True, capture_output=True)
        cold_check = pair("cslog check --no-cache (validates all)", CSLOG + ["check", "--no-cache"], parse, n=1)
        against("cslog check --no-cache (against cold index)", cold_check, cold_index)
    ticket = ["new", "ticket", "--customer", "C0001", "--type", "故障", "--priority", "紧急", "--channel", "phone",
              "--title", "压测工单", "--description", "压测:新建工单并提交"]
    pair("cslog new ticket (with its commit)", CSLOG + ticket, start)
    print_table(rows, floors, repo)
    if args.json:
        args.json.write_text(json.dumps({"repo": str(repo), "floors": floors,
                                         "rows": [{**r, "floor": f["label"], "ratio": r["median"] / f["median"]}
                                                  for r, f in rows]}, indent=2), encoding="utf-8")


def compile_cslog() -> None:
    """Byte-compile cslog as pip install does (this machine may run with PYTHONDONTWRITEBYTECODE)."""
    import compileall

    import cslog

    compileall.compile_dir(str(Path(cslog.__file__).parent), quiet=1)


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
