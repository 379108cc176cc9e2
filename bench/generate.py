"""Make a large, realistic data repository for the benchmarks: N tickets over two years, one commit.

    python bench/generate.py /tmp/cs100k --n 100000
    python bench/generate.py /tmp/cs100k-stress --stress      # a third still open: the old stress case

Tickets (about 1.3 KB each, Chinese text, a timeline of the events that moved them) are spread over
two years ending at --end, weekdays busier than weekends; 3 % are still open (new, claimed, in progress,
waiting for the customer, escalated): a team's realistic backlog. They are written straight to canonical YAML files
(a small emitter, checked against cslog.yamlio.render on a sample), not through the CLI: a hundred
thousand commands would take hours. The repository is made by cslog's own `init`, then everything is
committed in one commit.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cslog.ops import records as ops  # noqa: E402
from cslog.schemas import key_order, modeline  # noqa: E402
from cslog.timeutil import zone  # noqa: E402
from cslog.yamlio import _Dumper, canonical, render  # noqa: E402

TZ = zone("Asia/Shanghai")
AGENTS = {"客服部": ["小明", "小丽", "小华", "小芳", "阿杰", "小婷", "小林", "小周"],
          "技术部": ["小强", "李工", "王工", "陈工"], "售后部": ["赵工", "孙师傅", "钱师傅"],
          "财务部": ["小雪", "刘会计"], "运营部": ["老周", "小吴"], "品控部": ["小芬"]}
SUPERVISOR = "张主管"
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
COMPANIES = ["华东贸易", "明远科技", "鑫达物流", "海川电子", "星河教育", "青禾餐饮", "宏图建材", "博远医疗器械",
             "云帆网络", "金穗农业", "立信会计师事务所", "锦程旅行社", "瑞丰制造", "东方百货", "长风汽车服务"]
INDUSTRIES = ["电商", "制造", "物流", "教育", "餐饮", "医疗", "软件", "零售"]

# type, category, title, description, attempted, expectation, cause, solution, compensation,
# weights of urgent/important/normal, department
SCENARIOS = [
    ("complaint", "产品质量-充电故障", "智能手环无法充电,要求换货",
     "上周买的智能手环,用了三天就无法充电,指示灯不亮,换了充电线也不行,要求换货并补偿运费。",
     "更换充电线、重启手环", "换货并补偿运费", "电池触点氧化,批次质量问题", "换新机,顺丰寄出并补偿运费。",
     "运费补偿20元", (1, 6, 3), "售后部"),
    ("fault", "技术故障-登录异常", "无法登录系统,提示账号异常",
     "今天早上开始无法登录后台,提示账号异常,重置密码无效,影响今天的订单处理。", "重置密码、更换浏览器",
     "中午前恢复登录", "浏览器缓存与新版登录接口冲突", "协助清理缓存并重新授权,客户确认恢复正常。", None,
     (6, 3, 1), "技术部"),
    ("complaint", "账单-多扣费", "上月账单多扣费200元",
     "上月账单多扣了两百元,套餐没变过,打了两次电话都没结果,要求解释费用构成并退还。", None,
     "退还多扣费用", "套餐叠加错误导致重复计费", "财务核实后已原路退款并致歉。", "退款200元",
     (2, 6, 2), "财务部"),
    ("complaint", "产品质量-物流延误", "订单超过7天未送达",
     "下单九天了物流一直显示运输中,客服说再等等,我急着用,三天内送不到就退款。", "联系快递公司查询",
     "三天内送达或退款", "中转仓爆仓导致延误", "协调物流加急派送,次日送达,发放优惠券致歉。", "优惠券30元",
     (3, 5, 2), "运营部"),
    ("repair", "售后维修-空调", "空调制冷效果差,需上门检修",
     "国庆买的空调制冷效果很差,预约过一次售后,师傅没有按时上门。", "清洗滤网", "本周内上门检修",
     "安装时冷媒充注不足", "上门补充冷媒并更换密封件,制冷恢复正常。", None, (2, 5, 3), "售后部"),
    ("fault", "技术故障-App闪退", "App打开后闪退",
     "手机系统升级后App一打开就闪退,重装也不行,店铺现在没法接单。", "卸载重装", "尽快修复",
     "新系统版本兼容性问题", "发布修复版本3.2.1,指导客户更新后恢复正常。", None, (3, 5, 2), "技术部"),
    ("consultation", "产品咨询-保修政策", "咨询智能手表保修政策",
     "手表游泳时进水了,屏幕有雾气,想问在不在保修范围内,保修期多久。", None, "了解保修范围", None,
     "已说明整机保修一年,人为进水可付费维修。", None, (0, 2, 8), "客服部"),
    ("consultation", "产品咨询-套餐", "咨询企业套餐差异",
     "公司想升级套餐,标准版和专业版有什么区别,能不能按月付费。", None, "拿到报价", None,
     "已发送套餐对比表及报价,支持按月付费。", None, (0, 3, 7), "客服部"),
    ("suggestion", "建议反馈-物流查询", "建议优化物流信息查询功能",
     "物流信息更新太慢,建议在订单页直接显示快递员电话和预计送达时间。", None, "优化查询功能", None,
     "已纳入产品优化计划,预计下季度上线。", None, (0, 2, 8), "运营部"),
    ("suggestion", "建议反馈-发票", "建议支持电子发票自动发送",
     "每个月都要打电话要发票,能不能开票后自动发到预留邮箱。", None, "自动发送发票", None,
     "本月起支持开票后自动发送至邮箱。", None, (0, 3, 7), "财务部"),
    ("praise", "服务表扬-态度", "表扬客服耐心解答",
     "上次咨询退货,客服非常耐心,一步一步教我操作,还帮我查了退款进度,特别感谢。", None, None, None,
     "已转达表扬,记入服务之星评选。", None, (0, 0, 10), "客服部"),
    ("requirement", "需求-数据导出", "希望支持批量导出订单",
     "每月对账要导出全部订单,现在只能一页一页复制,希望能批量导出Excel。", "手工复制", "本季度上线",
     None, "已纳入需求池,期间由客服每月协助导出。", None, (0, 4, 6), "技术部"),
    ("info_change", "信息变更-联系方式", "变更账户联系电话",
     "我换了手机号,旧号已停用,麻烦把账户预留电话改一下,现在收不到验证码。", None, "今天改好",
     None, "核实身份后已更新预留电话。", None, (1, 4, 5), "客服部"),
    ("other", "其他-合作洽谈", "咨询渠道合作事宜",
     "我们是本地家电经销商,想了解品牌代理合作的条件,希望有专人对接。", None, "有专人联系", None,
     "已转销售部门跟进,三个工作日内回电。", None, (0, 2, 8), "运营部"),
]
CHANNELS = ["phone"] * 6 + ["email", "chat", "chat", "web", "social", "store", "portal", "other"]
EMOTIONS = ["calm", "anxious", "dissatisfied", "agitated"]
REPLIES = ["已收到您的反馈,正在核实,请保持电话畅通。", "相关部门正在加急处理,今天下班前答复您。",
           "已为您登记,进展会第一时间通知您。", "问题已定位,正在安排处理,感谢耐心等待。"]
NOTES = [("已联系客户核实细节,等待技术反馈", 30), ("定位到原因,正在处理", 50), ("与客户核对记录,确认方案", 70),
         ("处理完成,待客户确认", 90)]
RATING_COMMENTS = {5: "处理速度比预期快,态度很好,感谢处理。", 4: "问题解决了,整体满意。", 3: "解决了,但等得有点久。",
                   2: "拖了好几天才处理,不太满意。", 1: "问题反复出现,非常不满意。"}
OPEN_STAGES = (["new", "claimed", "in_progress", "waiting", "escalated"], [15, 15, 40, 20, 10])
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")
_CODE = re.compile(r"^[A-Z]{1,3}\d{4,}$")  # IDs: plain scalars

OPEN_SHARE = 0.03  # a realistic backlog (default)
STRESS_SHARE = 1 / 3  # the old stress case: tens of thousands of overdue rows


# --- canonical YAML, fast -------------------------------------------------------------------------

class Emitter:
    """The canonical text of the flat shapes generated here, as cslog.yamlio.render writes it."""

    def __init__(self) -> None:
        self._scalars: dict[str, str] = {}

    def scalar(self, value) -> str:
        if value is True or value is False:
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if _TIMESTAMP.match(value):
            return f"'{value}'"
        if _CODE.match(value):
            return value
        text = self._scalars.get(value)
        if text is None:
            import yaml

            dumped = yaml.dump({"k": value}, Dumper=_Dumper, allow_unicode=True, width=100000)
            text = self._scalars[value] = dumped[3:-1]
        return text

    def text(self, doc: dict, header: str) -> str:
        out = [header]
        for key, value in doc.items():
            if isinstance(value, dict):
                out.append(f"{key}:\n")
                out.extend(f"  {k}: {self.scalar(v)}\n" for k, v in value.items())
            elif isinstance(value, list):
                out.append(f"{key}:\n")
                for item in value:
                    if isinstance(item, dict):
                        lead = "  - "
                        for k, v in item.items():
                            out.append(f"{lead}{k}: {self.scalar(v)}\n")
                            lead = "    "
                    else:
                        out.append(f"  - {self.scalar(item)}\n")
            else:
                out.append(f"{key}: {self.scalar(value)}\n")
        return "".join(out)


# --- tickets ----------------------------------------------------------------------------------------

class Moments:
    """A ticket's moving clock; stops (returns None) past the end of the generated period."""

    def __init__(self, start: datetime, end: datetime, rng: random.Random):
        self.now, self.end, self.rng = start, end, rng

    def step(self, low: int, high: int) -> str | None:
        moment = self.now + timedelta(minutes=self.rng.randint(low, high))
        if moment > self.end:
            return None
        self.now = moment
        return moment.isoformat()


def ticket(rng: random.Random, tid: str, received: datetime, end: datetime, customer: tuple[str, str],
           open_share: float) -> dict:
    (typ, category, title, description, attempted, expectation, cause, solution, compensation, weights,
     department) = rng.choice(SCENARIOS)
    priority = rng.choices(["urgent", "important", "normal"], weights)[0]
    agent = rng.choice(AGENTS["客服部"])
    owner = rng.choice(AGENTS[department])
    at = Moments(received, end, rng)
    stage = rng.choices(*OPEN_STAGES)[0] if rng.random() < open_share else rng.choice(["closed"] * 4 + ["resolved"])
    emotion = rng.choice(EMOTIONS) if typ in ("complaint", "fault", "repair") else "calm"
    doc: dict = {
        "id": tid, "title": title, "type": typ, "priority": priority, "status": "new",
        "channel": rng.choice(CHANNELS), "customer": customer[0], "customer_name": customer[1],
        "received_at": received.isoformat(),
        "occurred_at": (received - timedelta(hours=rng.randint(1, 72))).isoformat() if rng.random() < 0.2 else None,
        "description": description, "attempted": attempted, "expectation": expectation, "emotion": emotion,
        "category": category, "tags": ["VIP"] if rng.random() < 0.08 else [],
        "praised": rng.choice(AGENTS["客服部"]) if typ == "praise" else None,
        "timeline": [{"at": received.isoformat(), "by": agent, "kind": "created", "status": "new"}],
    }
    events = doc["timeline"]

    def status(to: str, moment: str | None, **extra) -> bool:
        if moment is None:
            return False
        events.append({"at": moment, "by": doc.get("owner") or agent, "kind": "status", "from": doc["status"],
                       "to": to, **extra})
        doc["status"] = to
        return True

    fast = priority == "urgent"
    if stage == "new":
        return doc
    moment = at.step(5, 60 if fast else 300)
    if moment is None:
        return doc
    if rng.random() < 0.5:
        events.append({"at": moment, "by": owner, "kind": "claimed", "owner": owner, "department": department})
    else:
        events.append({"at": moment, "by": SUPERVISOR, "kind": "assigned", "owner": owner, "department": department})
    doc["owner"], doc["department"] = owner, department
    if stage == "claimed":
        return doc
    moment = at.step(5, 40 if fast else 200)
    if moment is None:
        return doc
    events.append({"at": moment, "by": owner, "kind": "reply", "text": rng.choice(REPLIES)})
    if not status("in_progress", at.step(1, 30)):
        return doc
    if rng.random() < 0.5 or stage != "closed":
        text, percent = rng.choice(NOTES)
        moment = at.step(30, 240)
        if moment is None:
            return doc
        events.append({"at": moment, "by": owner, "kind": "note", "text": text, "percent": percent})
    if stage == "escalated":
        moment = at.step(20, 120)
        if moment:
            events.append({"at": moment, "by": owner, "kind": "escalated", "from": "in_progress", "to": "escalated",
                           "to_agent": SUPERVISOR, "reason": "客户要求主管介入,需协调多个部门"})
            doc["status"] = "escalated"
        return doc
    if stage == "waiting" or rng.random() < 0.25:
        if not status("waiting", at.step(10, 120), note="等待客户提供照片和购买凭证") or stage == "waiting":
            return doc
        if not status("in_progress", at.step(60, 1500), note="客户已补充材料"):
            return doc
    if stage == "in_progress":
        return doc
    late = rng.random() < 0.2
    extra = {"solution": solution} if solution else {}
    if not status("resolved", at.step(600 if late else 30, 4000 if late else (120 if fast else 900)), **extra):
        return doc
    doc.update(extra, cause=cause, compensation=compensation)
    if rng.random() < 0.5:
        score = rng.choices([5, 4, 3, 2, 1], [45, 30, 13, 8, 4])[0]
        moment = at.step(10, 600)
        if moment:
            rating = {"score": score, "comment": RATING_COMMENTS[score], "efficiency": max(1, score - rng.randint(0, 1)),
                      "attitude": min(5, score + rng.randint(0, 1)), "solution": score, "at": moment}
            doc["satisfaction"] = rating
            events.append({"at": moment, "by": owner, "kind": "rated", "comment": rating["comment"], "score": score,
                           "efficiency": rating["efficiency"], "attitude": rating["attitude"],
                           "solution_score": score})
    if typ in ("complaint", "repair") and rng.random() < 0.8:
        moment = at.step(600, 2800)
        if moment:
            solved = rng.random() < 0.9
            call = {"at": moment, "by": rng.choice(AGENTS["客服部"]),
                    "result": "客户确认问题已解决,对处理结果满意" if solved else "客户反馈问题仍存在,需要再次处理",
                    "solved": solved, "score": rng.choice([4, 5]) if solved else 2}
            doc["callbacks"] = [call]
            events.append({**call, "kind": "callback"})
            if not solved:
                return doc
    if stage == "closed":
        status("closed", at.step(10, 600))
    return doc


def customer_doc(rng: random.Random, number: int) -> dict:
    kind = rng.choices(["individual", "enterprise", "vip"], [6, 3, 1])[0]
    if kind == "enterprise":
        name = rng.choice(COMPANIES) + rng.choice(["有限公司", "股份有限公司", "分公司"])
    else:
        name = rng.choice(SURNAMES) + rng.choice(["先生", "女士"])
    contact = {"name": rng.choice(SURNAMES) + "经理" if kind == "enterprise" else None,
               "phone": f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"}
    return {"id": f"C{number:04d}", "name": name, "type": kind,
            "industry": rng.choice(INDUSTRIES) if kind != "individual" else None, "contacts": [contact],
            "tags": ["VIP"] if kind == "vip" else []}


def generate(target: Path, n: int, end: date, years: int = 2, customers: int = 2000, open_share: float = OPEN_SHARE,
             seed: int = 20261122, commit: bool = True, verify: int = 300, say=print) -> dict:
    started = time.perf_counter()
    rng = random.Random(seed)
    first = end - timedelta(days=365 * years - 1)
    ops.init_repo(target, "压测科技有限公司", "zh", "bench", datetime.combine(first, datetime.min.time(), TZ),
                  commit=False)
    order = key_order("customer")
    people = []
    for i in range(1, customers + 1):
        doc = customer_doc(rng, i)
        (target / "customers" / f"{doc['id']}.yaml").write_text(render(doc, order, modeline("customer")),
                                                                encoding="utf-8")
        people.append((doc["id"], doc["name"]))
    days = [first + timedelta(days=i) for i in range((end - first).days + 1)]
    weights = [1.0 if d.weekday() < 5 else 0.35 for d in days]
    per_day = [0] * len(days)
    for i in rng.choices(range(len(days)), weights, k=n):
        per_day[i] += 1
    emitter, order, header = Emitter(), key_order("ticket"), modeline("ticket")
    end_moment = datetime.combine(end, datetime.max.time().replace(microsecond=0), TZ)
    written = size = 0
    for day, count in zip(days, per_day):
        if not count:
            continue
        folder = target / "tickets" / f"{day:%Y}" / f"{day:%m}"
        folder.mkdir(parents=True, exist_ok=True)
        base = datetime.combine(day, datetime.min.time(), TZ)
        moments = sorted(base + timedelta(minutes=rng.randint(8 * 60, 21 * 60 + 59)) for _ in range(count))
        for seq, received in enumerate(moments, 1):
            tid = f"CW{day:%Y%m%d}{seq:04d}"
            doc = canonical(ticket(rng, tid, received, end_moment, rng.choice(people), open_share), order)
            text = emitter.text(doc, header)
            if written < verify or rng.random() < verify / max(n, 1):
                expected = render(doc, order, header)
                if text != expected:
                    raise AssertionError(f"{tid}: the fast emitter differs from cslog's canonical form")
            with open(folder / f"{tid}.yaml", "w", encoding="utf-8") as f:
                f.write(text)
            written += 1
            size += len(text.encode("utf-8"))
    say(f"wrote {written} tickets ({size / max(written, 1):.0f} bytes each), {customers} customers "
        f"in {time.perf_counter() - started:.1f}s")
    if commit:
        env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
               "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
        subprocess.run(["git", "add", "-A", "."], cwd=target, check=True, env=env)
        subprocess.run(["git", "commit", "-q", "-m", f"bench: {written} tickets"], cwd=target, check=True, env=env)
        say(f"committed in {time.perf_counter() - started:.1f}s")
    return {"tickets": written, "bytes_per_ticket": size / max(written, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", type=Path, help="folder for the new data repository (must not exist)")
    parser.add_argument("--n", type=int, default=100_000, help="number of tickets (default 100000)")
    parser.add_argument("--end", default="2026-11-30", help="last day of the period (YYYY-MM-DD)")
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--open-share", type=float, default=OPEN_SHARE, help="share of tickets still open (default 0.03)")
    parser.add_argument("--stress", action="store_true", help="a third of the tickets still open (--open-share 1/3)")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--no-commit", action="store_true")
    args = parser.parse_args(argv)
    if args.target.exists():
        parser.error(f"{args.target} exists")
    share = STRESS_SHARE if args.stress else args.open_share
    generate(args.target, args.n, date.fromisoformat(args.end), args.years, args.customers, share,
             args.seed, commit=not args.no_commit)


if __name__ == "__main__":
    main()
