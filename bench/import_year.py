"""Import benchmark: a year of tracking tables (12 sheets x 150 rows) into a fresh repository, beside its floor.

    python bench/import_year.py [--sheets 12] [--rows 150]

Prints the wall time of `cslog import` (python start-up, reading, checking every row, writing every record and
its customer, one commit), of the re-run that skips every row, and the floor: openpyxl reading the same
workbook. The target (issue 20): under a minute.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CSLOG = [sys.executable, "-m", "cslog"]
TARGET = 60.0
HEADERS = ["工单编号", "客户名称", "联系方式", "问题类型", "紧急程度", "问题描述", "处理人", "处理进度", "任务开始时间",
           "实际完成时间", "解决方案", "问题分类"]


def workbook(path: Path, sheets: int, rows: int) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    n = 0
    for month in range(1, sheets + 1):
        ws = book.create_sheet(f"{month}月")
        ws.append(HEADERS)
        for i in range(rows):
            n += 1
            day = 1 + i % 28
            done = i % 3 != 0
            ws.append([f"A{n:05d}", f"客户{n % 400}公司", f"139{n:08d}", ["故障", "咨询", "投诉"][i % 3],
                       ["高", "中", "低"][i % 3], f"第{n}号问题:无法登录系统", "", "已完成" if done else "处理中",
                       f"2025-{month:02d}-{day:02d} 10:00", f"2025-{month:02d}-{day:02d} 16:00" if done else None,
                       "已处理" if done else None, ["技术故障-登录", "财务-发票", "物流-延误"][i % 3]])
    book.save(path)


def timed(args: list[str], cwd: Path, env: dict) -> float:
    began = time.monotonic()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.monotonic() - began
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=int, default=12)
    parser.add_argument("--rows", type=int, default=150)
    args = parser.parse_args()
    env = {**os.environ, "CSLOG_NOW": "2026-01-05T10:00:00+08:00", "CSLOG_AGENT": "bench",
           "PYTHONPATH": str(HERE.parent)}
    with tempfile.TemporaryDirectory(prefix="cslog-import-bench-") as tmp:
        tmp_path = Path(tmp)
        book = tmp_path / "去年.xlsx"
        workbook(book, args.sheets, args.rows)
        floor = timed([sys.executable, "-c", f"import openpyxl; openpyxl.load_workbook({str(book)!r}, data_only=True)"],
                      tmp_path, env)
        timed(CSLOG + ["init", "desk", "--org", "bench"], tmp_path, env)
        first = timed(CSLOG + ["import", str(book)], tmp_path / "desk", env)
        again = timed(CSLOG + ["import", str(book)], tmp_path / "desk", env)
    rows = args.sheets * args.rows
    print(f"{'line':52} {'seconds':>8}")
    print(f"{'floor: openpyxl reads the workbook':52} {floor:8.2f}")
    print(f"{f'cslog import ({args.sheets} sheets x {args.rows} rows = {rows})':52} {first:8.2f}"
          f"   target < {TARGET:.0f} s: {'met' if first < TARGET else 'MISSED'}")
    print(f"{'cslog import again (every row skipped)':52} {again:8.2f}")


if __name__ == "__main__":
    main()
