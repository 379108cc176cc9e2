"""Time `cslog export` on a 10,000-ticket month against bare openpyxl writing the same cells.

    python bench/export.py [--tickets 10000] [--contacts 3000] [--rounds 4] [--keep DIR]

A temporary data repository gets one month (2026-10) of realistic tickets written straight as YAML
files (about 1.5 KB each: Chinese text, six to eight timeline events), 300 customers and contact
records. Then, in child processes:

  compare  the rows collected once (cslog.export.collect), then written alternately by
           cslog.export.write_workbook ("ours") and by bare openpyxl write-only ("bare": ws.append of
           the same values; no styles, no formula guard, no widths, no charts); CPU seconds, best run
  bare / ours  one writer each, for the process's peak memory (ru_maxrss)
  export   cslog.export.export() end to end: read and judge every ticket, build the rows, write

Targets: ours at most 1.3x bare, and the whole export under 200 MB. CPU seconds (time.process_time)
are compared, because wall-clock time on a shared machine says more about the neighbours.
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

NOW = "2026-11-22T14:30:00+08:00"
MONTH = "2026-10"

SCENARIOS = [
    ("complaint", "产品质量-充电故障", "智能手环无法充电,要求换货",
     "购买的智能手环,使用3天后出现无法充电问题,充电指示灯不亮,更换充电线后无效,要求换货并补偿运费。",
     "换货并补偿运费", "换货+运费补偿20元,顺丰寄出新机", "售后部", "赵工"),
    ("fault", "技术故障-登录异常", "无法登录系统,提示账号异常",
     "无法登录系统,提示‘账号异常’,已尝试重置密码无效,影响今日订单处理。请尽快处理,联系电话见客户档案。",
     "今天恢复登录", "协助客户清理浏览器缓存,指导重新登录,系统恢复正常,客户确认可用。", "技术部", "小强"),
    ("complaint", "账单-多扣费", "上月账单多扣费200元",
     "投诉上月账单多扣费200元,要求详细解释费用构成并退还。客户情绪激动,表示如不处理将向消协投诉。",
     "退还多扣的费用并解释", "财务核实为套餐叠加错误,已退款并致歉,客户接受处理结果。", "财务部", "小雪"),
    ("complaint", "产品质量-物流延误", "订单超过7天未送达",
     "下单已经9天了物流一直显示运输中,客服说再等等,我急着用。订单号 DD2026100912345,请帮忙催一下。",
     "三天内送达或退款", "协调物流加急派送,次日送达,并发放优惠券致歉。", "运营部", "老周"),
    ("repair", "售后维修-空调", "空调制冷效果差,需上门检修",
     "10月1日购买的空调制冷效果差,联系售后未解决。家里有老人,希望尽快安排师傅上门看看。",
     "尽快上门检修", "已安排上门检修,补充冷媒并更换零件,制冷恢复正常。", "售后部", "赵工"),
    ("consultation", "产品咨询-保修政策", "咨询智能手表保修政策",
     "想问一下手表进水了在不在保修范围内,保修期是多久,需要带什么材料去门店。",
     "了解保修范围", "已说明:整机保修一年,人为进水不在保修范围,可付费维修。", "客服部", "小明"),
    ("suggestion", "建议反馈-发票", "建议支持电子发票自动发送",
     "每次都要打电话要发票,能不能开票后自动发到邮箱。我们公司每个月要报销很多次,很不方便。",
     "自动发送发票", "已纳入产品优化计划,预计下季度上线", "财务部", "小雪"),
    ("praise", "服务表扬-态度", "表扬客服耐心解答",
     "上次打电话咨询退货,客服非常耐心,一步一步教我操作,特别感谢。希望公司能表扬一下这位客服。",
     "转达表扬", "已转达表扬并记录绩效", "客服部", "小丽"),
]
PRIORITIES = [("urgent", 1), ("important", 4), ("normal", 5)]
CHANNELS = ["phone", "email", "chat", "web", "social", "store", "portal"]


def q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ticket_text(tid: str, received: datetime, rng: random.Random, customer: int) -> str:
    type_, category, title, description, expectation, solution, department, owner = rng.choice(SCENARIOS)
    priority = rng.choices([p for p, _ in PRIORITIES], [w for _, w in PRIORITIES])[0]
    t = received

    def at(minutes: float) -> str:
        return q((t + timedelta(minutes=round(minutes))).isoformat())

    done = rng.random() < 0.85
    claim, reply, work, resolve = (rng.uniform(5, 180), rng.uniform(10, 300), rng.uniform(20, 400),
                                   rng.uniform(120, 4000))
    reply = max(reply, claim + 1)
    work = max(work, reply + 1)
    resolve = max(resolve, work + 60)
    status = "closed" if done and rng.random() < 0.7 else "resolved" if done else rng.choice(["new", "in_progress"])
    lines = [
        "# yaml-language-server: $schema=../../../schemas/ticket.schema.json",
        f"id: {tid}", f"title: {title}", f"type: {type_}", f"priority: {priority}", f"status: {status}",
        f"channel: {rng.choice(CHANNELS)}", f"customer: C{customer:04d}", f"customer_name: 客户{customer}号",
        f"received_at: {at(0)}", f"description: {description}", f"expectation: {expectation}", "emotion: anxious",
        f"category: {category}", f"owner: {owner}", f"department: {department}",
    ]
    if done:
        lines.append(f"solution: {solution}")
        score = rng.choice([2, 3, 4, 4, 5, 5, 5])
        lines += ["satisfaction:", f"  score: {score}", f"  at: {at(resolve + 90)}"]
    lines += ["timeline:",
              f"  - at: {at(0)}", "    by: 小明", "    kind: created", "    status: new",
              f"  - at: {at(claim)}", "    by: 小华", "    kind: assigned", f"    owner: {owner}",
              f"    department: {department}",
              f"  - at: {at(reply)}", f"    by: {owner}", "    kind: reply", "    text: 问题已收到,正在核实处理。"]
    if status != "new":
        lines += [f"  - at: {at(work)}", f"    by: {owner}", "    kind: status", "    from: new", "    to: in_progress",
                  f"  - at: {at(work + 30)}", f"    by: {owner}", "    kind: note", "    text: 已联系相关部门核实细节,等待反馈",
                  "    percent: 50"]
    if done:
        lines += [f"  - at: {at(resolve)}", f"    by: {owner}", "    kind: status", "    from: in_progress",
                  "    to: resolved", f"    solution: {solution}",
                  f"  - at: {at(resolve + 90)}", "    by: 小明", "    kind: rated", f"    score: {score}"]
        if status == "closed":
            lines += [f"  - at: {at(resolve + 200)}", "    by: 小华", "    kind: status", "    from: resolved",
                      "    to: closed"]
    return "\n".join(lines) + "\n"


def generate(root: Path, tickets: int, contacts: int, seed: int = 7) -> int:
    """Write the repository; returns the total size of the ticket files in bytes."""
    from cslog.defaults import config_text as default_config_text

    rng = random.Random(seed)
    root.mkdir(parents=True)
    (root / "cslog.yaml").write_text(default_config_text("示例科技有限公司", "zh"), encoding="utf-8")
    (root / "customers").mkdir()
    for c in range(1, 301):
        (root / "customers" / f"C{c:04d}.yaml").write_text(
            f"id: C{c:04d}\nname: 客户{c}号\ntype: {rng.choice(['individual', 'enterprise', 'vip'])}\ncontacts:\n"
            f"  - name: 联系人{c}\n    phone: '1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}'\n"
            f"    email: user{c}@example.com\n", encoding="utf-8")
    folder = root / "tickets" / "2026" / "10"
    folder.mkdir(parents=True)
    start = datetime.fromisoformat("2026-10-01T00:00:00+08:00")
    per_day: dict[str, int] = {}
    size = 0
    moments = sorted(start + timedelta(seconds=rng.uniform(0, 31 * 86400 - 7200)) for _ in range(tickets))
    for moment in moments:
        day = f"{moment:%Y%m%d}"
        per_day[day] = per_day.get(day, 0) + 1
        tid = f"CW{day}{per_day[day]:04d}"
        text = ticket_text(tid, moment.replace(microsecond=0), rng, rng.randint(1, 300))
        (folder / f"{tid}.yaml").write_text(text, encoding="utf-8")
        size += len(text.encode("utf-8"))
    cfolder = root / "contacts" / "2026" / "10"
    cfolder.mkdir(parents=True)
    for i in range(contacts):
        moment = (start + timedelta(seconds=rng.uniform(0, 30 * 86400))).replace(microsecond=0)
        cid = f"GT{moment:%Y%m%d}{i:04d}"
        (cfolder / f"{cid}.yaml").write_text(
            f"id: {cid}\ncustomer: C0001\ncustomer_name: 客户1号\nchannel: phone\nagent: 小明\n"
            f"started_at: {q(moment.isoformat())}\nended_at: {q((moment + timedelta(minutes=12)).isoformat())}\n"
            "request: 无法登录系统,提示账号异常,请回电 13812345678\nagreed:\n  - 承诺1小时内回复处理进展\n"
            "emotion:\n  before: anxious\n  after: calm\n", encoding="utf-8")
    return size


def bare_write(path: Path, contents) -> None:
    """The same cells, written the plainest way openpyxl can."""
    from openpyxl import Workbook

    from cslog import export, report

    wb = Workbook(write_only=True)
    summary = wb.create_sheet("汇总")
    for section in report.sections(contents.report, "zh"):
        summary.append([section.title])
        summary.append(list(section.headers))
        for row in section.rows:
            summary.append(list(report.row_values(section, row)))
    for title, columns, rows in (("工单明细", export.TICKET_COLUMNS, contents.tickets),
                                 ("沟通记录", export.CONTACT_COLUMNS, contents.contacts)):
        ws = wb.create_sheet(title)
        ws.append([c[1][0] for c in columns])
        for row in rows:
            ws.append(row)
    trends = wb.create_sheet("趋势")
    for t in contents.report["trend"]:
        trends.append(list(t.values()))
    wb.save(path)


def child(mode: str, root: Path, out: Path, rounds: int) -> None:
    from cslog import export, report
    from cslog.store import Store
    from cslog.timeutil import parse_time

    store = Store.open(root)
    now = parse_time(NOW, store.settings.tz)
    period = report.month_period(MONTH)
    figures: dict = {"mode": mode}
    t0, c0 = time.perf_counter(), time.process_time()
    if mode == "export":
        written = export.export(store, period, now, out)
        figures.update(total=time.perf_counter() - t0, total_cpu=time.process_time() - c0, tickets=written.tickets,
                       contacts=written.contacts, bytes=out.stat().st_size)
    else:
        contents = export.collect(store, period, now)
        figures.update(collect=time.perf_counter() - t0, collect_cpu=time.process_time() - c0)
        writers = {"ours": lambda: export.write_workbook(out, contents, "zh", store.settings.org),
                   "bare": lambda: bare_write(out.with_name("bare-" + out.name), contents)}
        # "compare": both writers on the same rows in one process, alternately, so that both meet the same
        # machine; the cheapest run of each counts. "ours" / "bare": one writer, for its peak memory.
        if mode == "compare":
            sequence = [("bare", "ours") if k % 2 == 0 else ("ours", "bare") for k in range(rounds)]
        else:
            sequence = [(mode,)]
        for names in sequence:
            for name in names:
                c1 = time.process_time()
                writers[name]()
                spent = time.process_time() - c1
                figures[name] = min(figures.get(name, spent), spent)
    figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


def run(mode: str, root: Path, out: Path, rounds: int = 1) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", mode, str(root), str(out), str(rounds)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=3_000)
    parser.add_argument("--rounds", type=int, default=4, help="runs of each writer / of the export; the best counts")
    parser.add_argument("--keep", type=Path, help="keep the repository and workbooks in this folder")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "REPO", "OUT", "ROUNDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]), int(args.child[3]))
        return
    base = args.keep or Path(tempfile.mkdtemp(prefix="cslog-bench-"))
    try:
        t0 = time.perf_counter()
        size = generate(base / "desk", args.tickets, args.contacts)
        print(f"generated {args.tickets} tickets ({size / args.tickets:.0f} bytes each on average) and "
              f"{args.contacts} contacts in {time.perf_counter() - t0:.1f}s")
        compare = run("compare", base / "desk", base / "ours.xlsx", args.rounds)
        peaks = {mode: run(mode, base / "desk", base / f"{mode}.xlsx")["peak_mb"] for mode in ("bare", "ours")}
        whole = min((run("export", base / "desk", base / "export.xlsx") for _ in range(args.rounds)),
                    key=lambda r: r["total_cpu"])
        print(f"CPU seconds, best of {args.rounds} (wall-clock seconds in brackets)")
        print(f"reading and judging the tickets : {compare['collect_cpu']:6.2f}s ({compare['collect']:.2f}s)")
        print(f"bare openpyxl write-only        : {compare['bare']:6.2f}s   process peak {peaks['bare']:.0f} MB")
        print(f"cslog workbook writing          : {compare['ours']:6.2f}s   process peak {peaks['ours']:.0f} MB   "
              f"{compare['ours'] / compare['bare']:.2f}x bare [target <= 1.30x]")
        print(f"cslog export, end to end        : {whole['total_cpu']:6.2f}s ({whole['total']:.2f}s)   "
              f"process peak {whole['peak_mb']:.0f} MB [target <= 200 MB]; {whole['bytes'] / 1e6:.1f} MB workbook, "
              f"{whole['tickets']} tickets, {whole['contacts']} contacts")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
