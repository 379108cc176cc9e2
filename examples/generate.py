"""Rebuild examples/: a realistic data repository made by cslog's own library, deterministically.

    python examples/generate.py

Customers, contact records and tickets from May to November 2026, in the spirit of the
seeds (wristband exchange, login fault, double billing, logistics delay...): every type,
priority, channel and status, some overdue, some rated, a batch of complaints. Nothing is
committed: the files are committed with the project.
"""
from __future__ import annotations

import random
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from cslog.ops import records as ops, tickets as actions  # noqa: E402
from cslog.store import Store  # noqa: E402
from cslog.timeutil import zone  # noqa: E402

TZ = zone("Asia/Shanghai")
AGENTS = [("a01", "小明", "客服部"), ("a02", "小丽", "客服部"), ("a03", "小强", "技术部"), ("a04", "小雪", "财务部"),
          ("a05", "赵工", "售后部"), ("a06", "小华", "客服部"), ("a07", "小芳", "品控部"), ("a08", "老周", "运营部")]
DEPARTMENTS = ["客服部", "技术部", "售后部", "财务部", "品控部", "运营部"]
SUPERVISOR = "小华"

SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
COMPANIES = ["A公司", "B客户", "华东贸易有限公司", "明远科技", "鑫达物流", "海川电子", "星河教育", "青禾餐饮",
             "宏图建材", "博远医疗器械", "云帆网络", "金穗农业", "立信会计师事务所", "锦程旅行社", "瑞丰制造"]
INDUSTRIES = ["电商", "制造", "物流", "教育", "餐饮", "医疗", "软件", "零售"]

# type, category, title, description (the customer's words), expectation, cause, solution, compensation,
# weights of urgent/important/normal, owner department
SCENARIOS = [
    ("complaint", "产品质量-充电故障", "智能手环无法充电,要求换货",
     "购买的智能手环,使用3天后出现无法充电问题,充电指示灯不亮,更换充电线后无效,要求换货并补偿运费。",
     "换货并补偿运费", "电池触点氧化,批次质量问题", "换货+运费补偿20元,顺丰寄出新机", "运费补偿20元", (1, 6, 3), "售后部"),
    ("fault", "技术故障-登录异常", "无法登录系统,提示账号异常",
     "无法登录系统,提示‘账号异常’,已尝试重置密码无效,影响今日订单处理。", "今天恢复登录",
     "浏览器缓存与新版登录接口冲突", "协助客户清理浏览器缓存,指导重新登录,系统恢复正常,客户确认可用。", None, (6, 3, 1), "技术部"),
    ("complaint", "账单-多扣费", "上月账单多扣费200元",
     "投诉上月账单多扣费200元,要求详细解释费用构成并退还。", "退还多扣的费用并解释",
     "套餐叠加错误导致重复计费", "财务核实为套餐叠加错误,已退款并致歉,客户接受处理结果。", "退款200元", (2, 6, 2), "财务部"),
    ("complaint", "产品质量-物流延误", "订单超过7天未送达",
     "下单已经9天了物流一直显示运输中,客服说再等等,我急着用。", "三天内送达或退款",
     "中转仓爆仓导致延误", "协调物流加急派送,次日送达,并发放优惠券致歉。", "优惠券30元", (3, 5, 2), "运营部"),
    ("repair", "售后维修-空调", "空调制冷效果差,需上门检修",
     "10月1日购买的空调制冷效果差,联系售后未解决。", "尽快上门检修", "冷媒不足",
     "已安排上门检修,补充冷媒并更换零件,制冷恢复正常。", None, (2, 5, 3), "售后部"),
    ("fault", "技术故障-App闪退", "App打开后闪退",
     "手机升级系统后App一打开就闪退,重装也不行。", "尽快修复", "新系统版本兼容性问题",
     "发布修复版本3.2.1,指导客户更新后恢复正常。", None, (3, 5, 2), "技术部"),
    ("consultation", "产品咨询-保修政策", "咨询智能手表保修政策",
     "想问一下手表进水了在不在保修范围内,保修期是多久。", "了解保修范围", None,
     "已说明:整机保修一年,人为进水不在保修范围,可付费维修。", None, (0, 2, 8), "客服部"),
    ("consultation", "产品咨询-套餐", "咨询企业套餐差异",
     "我们公司想升级套餐,标准版和专业版有什么区别,能不能按月付。", "拿到报价", None,
     "已发送套餐对比表及报价,支持按月付费。", None, (0, 3, 7), "客服部"),
    ("suggestion", "建议反馈-物流查询", "建议优化物流信息查询功能",
     "物流信息更新太慢,建议在订单页直接显示快递员电话和预计送达时间。", "优化查询功能", None, None, None,
     (0, 2, 8), "运营部"),
    ("suggestion", "建议反馈-发票", "建议支持电子发票自动发送",
     "每次都要打电话要发票,能不能开票后自动发到邮箱。", "自动发送发票", None, None, None, (0, 3, 7), "财务部"),
    ("praise", "服务表扬-态度", "表扬客服耐心解答",
     "上次打电话咨询退货,客服非常耐心,一步一步教我操作,特别感谢。", None, None, None, None, (0, 0, 10), "客服部"),
    ("requirement", "需求-数据导出", "希望支持批量导出订单",
     "我们每月对账需要导出全部订单,现在只能一页一页复制,希望能批量导出Excel。", "本季度上线", None,
     "已纳入产品需求池,预计下季度上线,先提供后台导出协助。", None, (0, 4, 6), "技术部"),
    ("info_change", "信息变更-联系方式", "变更账户联系电话",
     "我换了手机号,麻烦把账户预留电话改一下,验证码收不到。", "今天改好", None,
     "核实身份后已更新预留电话,客户确认收到验证码。", None, (1, 4, 5), "客服部"),
    ("other", "其他-合作洽谈", "咨询渠道合作事宜",
     "我们是本地经销商,想了解一下代理合作的条件。", "有人联系", None, "已转销售部门跟进,三日内回电。", None,
     (0, 2, 8), "运营部"),
]
CHANNELS = ["phone"] * 6 + ["email", "chat", "chat", "web", "social", "store", "portal", "other"]
EMOTIONS = ["calm", "anxious", "dissatisfied", "agitated"]
REPLIES = ["已收到您的反馈,正在为您核实,请保持电话畅通。", "相关部门正在加急处理,预计今天下班前给您答复。",
           "已为您登记,处理进展会第一时间通知您。", "问题已定位,正在安排处理,感谢您的耐心等待。"]
NOTES = [("已联系客户核实细节,等待技术部门反馈", 30), ("定位到原因,正在处理", 50),
         ("与客户核对记录,确认处理方案", 70), ("处理完成,待客户确认", 90)]
RATING_COMMENTS = {5: "处理速度比预期快,感谢处理。", 4: "问题解决了,整体满意。", 3: "解决了,但等得有点久。",
                   2: "拖了好几天才处理,不太满意。", 1: "问题反复出现,非常不满意。"}


class Clock:
    """A moving 'now' for back-dated entries."""

    def __init__(self, start: datetime):
        self.now = start

    def step(self, rng: random.Random, low_minutes: int, high_minutes: int) -> datetime:
        self.now += timedelta(minutes=rng.randint(low_minutes, high_minutes))
        return self.now


def received_time(rng: random.Random, day: datetime) -> datetime:
    if rng.random() < 0.12:  # at night or early morning
        return day.replace(hour=rng.choice([7, 8, 19, 20, 21, 22]), minute=rng.randrange(60))
    return day.replace(hour=rng.randint(9, 17), minute=rng.randrange(60))


def main() -> None:
    rng = random.Random(20261122)
    for folder in ("tickets", "contacts", "customers", "actions", "attachments", "handbook", ".cslog"):
        shutil.rmtree(HERE / folder, ignore_errors=True)
    for name in ("cslog.yaml", ".gitignore", ".gitattributes"):
        (HERE / name).unlink(missing_ok=True)
    shutil.rmtree(HERE / "schemas", ignore_errors=True)
    start = datetime(2026, 5, 6, 9, 0, tzinfo=TZ)
    ops.init_repo(HERE, "示例科技有限公司", "zh", "小华", start, commit=False)
    config = (HERE / "cslog.yaml").read_text(encoding="utf-8")
    agents = "agents:\n" + "".join(f"  - {{id: {a}, name: {n}, department: {d}}}\n" for a, n, d in AGENTS)
    config = config.replace("agents: []\n", agents).replace("departments: []\n",
                                                            f"departments: [{', '.join(DEPARTMENTS)}]\n")
    config = _hotline(config)
    (HERE / "cslog.yaml").write_text(config, encoding="utf-8")
    store = Store.open(HERE)

    customers = []
    for i in range(60):
        kind = rng.choices(["individual", "enterprise", "vip"], [6, 3, 1])[0]
        if kind == "enterprise":
            name = COMPANIES[i % len(COMPANIES)] + ("" if i < len(COMPANIES) else f"{i // len(COMPANIES) + 1}分公司")
        else:
            name = rng.choice(SURNAMES) + rng.choice(["先生", "女士"])
        phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        customer = ops.new_customer(store, actor="小华", now=start, name=name, type=kind, phone=phone,
                                    email=f"kefu{i:02d}@example.com" if kind != "individual" else None,
                                    contact_name=(rng.choice(SURNAMES) + "经理") if kind == "enterprise" else None,
                                    industry=rng.choice(INDUSTRIES) if kind != "individual" else None,
                                    tags=["VIP"] if kind == "vip" else [], commit=False)
        customers.append(customer.id)

    day = start
    end = datetime(2026, 11, 21, 9, 0, tzinfo=TZ)
    count = 0
    while day < end:
        per_day = rng.choice([1, 1, 2, 2, 2, 3]) if day.weekday() < 5 else rng.choice([0, 0, 1])
        for _ in range(per_day):
            count += 1
            make_case(store, rng, customers, received_time(rng, day), count)
        day += timedelta(days=1)
    batch_of_complaints(store, rng, customers, datetime(2026, 11, 18, 10, 5, tzinfo=TZ))
    at_the_desk(store, customers)
    october_review(store)
    improvement_actions(store)
    print(f"examples: {len(customers)} customers, "
          f"{len(store.record_paths('ticket'))} tickets, {len(store.record_paths('contact'))} contacts")


def make_case(store: Store, rng: random.Random, customers: list[str], when: datetime, n: int) -> None:
    scenario = rng.choice(SCENARIOS)
    (typ, category, title, description, expectation, cause, solution, compensation, weights, department) = scenario
    priority = rng.choices(["urgent", "important", "normal"], weights)[0]
    customer = rng.choice(customers)
    channel = rng.choice(CHANNELS)
    agent = rng.choice([a for a in AGENTS if a[2] == "客服部"])[1]
    clock = Clock(when)
    # A third of the calls are answered on the phone: a contact record and no ticket.
    if typ == "consultation" and rng.random() < 0.5:
        ops.new_contact(store, actor=agent, now=when, customer=customer, channel=channel, request=description,
                        details=f"客户来电咨询:{title}", agreed=[solution], emotion_before="calm",
                        emotion_after="satisfied", started_at=when, ended_at=when + timedelta(minutes=rng.randint(3, 15)),
                        commit=False)
        return
    emotion = rng.choice(EMOTIONS) if typ in ("complaint", "fault", "repair") else "calm"
    spec = {"type": typ, "priority": priority, "title": title, "category": category, "expectation": expectation}
    if rng.random() < 0.6:
        made = ops.new_contact(store, actor=agent, now=when, customer=customer, channel=channel,
                               request=description, emotion_before=emotion,
                               agreed=[f"承诺{rng.choice(['1小时', '4小时', '24小时'])}内回复处理进展"],
                               references=f"订单号 DD2026{rng.randrange(10**10):010d}" if rng.random() < 0.5 else None,
                               started_at=when, ended_at=when + timedelta(minutes=rng.randint(4, 20)),
                               open_ticket=spec, commit=False)
        tid = made[1].id
    else:
        tid = ops.new_ticket(store, actor=agent, now=when, customer=customer, channel=channel,
                             description=description, emotion=emotion, tags=["VIP"] if rng.random() < 0.1 else [],
                             praised=rng.choice(["小丽", "小明"]) if typ == "praise" else None,
                             commit=False, **spec).id
    age_days = (datetime(2026, 11, 21, tzinfo=TZ) - when).days
    # How far this ticket got: recent ones are more often still open.
    if age_days > 30:
        stage = rng.choices(["closed", "resolved", "stuck"], [85, 10, 5])[0]
    elif age_days > 7:
        stage = rng.choices(["closed", "resolved", "in_progress", "waiting", "escalated"], [55, 20, 12, 8, 5])[0]
    else:
        stage = rng.choices(["new", "claimed", "in_progress", "waiting", "escalated", "resolved", "closed"],
                            [20, 15, 25, 10, 5, 15, 10])[0]
    if stage == "new":
        return
    owners = [a for a in AGENTS if a[2] == department] or [a for a in AGENTS if a[2] == "客服部"]
    owner = rng.choice(owners)[1]
    fast = priority == "urgent"
    if rng.random() < 0.5:
        actions.claim(store, tid, actor=owner, now=clock.step(rng, 5, 60 if fast else 300), commit=False)
    else:
        actions.assign(store, tid, owner, department=department, actor=SUPERVISOR,
                       now=clock.step(rng, 5, 60 if fast else 300), commit=False)
    if stage == "claimed":
        return
    actions.reply(store, tid, rng.choice(REPLIES), actor=owner, now=clock.step(rng, 5, 40 if fast else 200),
                  commit=False)
    actions.change_status(store, tid, "in_progress", actor=owner, now=clock.step(rng, 1, 30), commit=False)
    if stage == "stuck":
        return
    text, pct = rng.choice(NOTES)
    actions.note(store, tid, text, percent=pct, actor=owner, now=clock.step(rng, 30, 240), commit=False)
    if stage == "escalated":
        actions.escalate(store, tid, reason="客户要求主管介入", to=SUPERVISOR, actor=owner,
                         now=clock.step(rng, 20, 120), commit=False)
        return
    if rng.random() < 0.25 or stage == "waiting":
        actions.change_status(store, tid, "waiting", note="等待客户提供故障照片和购买凭证", actor=owner,
                              now=clock.step(rng, 10, 120), commit=False)
        if stage == "waiting":
            return
        actions.change_status(store, tid, "in_progress", note="客户已补充材料", actor=owner,
                              now=clock.step(rng, 60, 1500), commit=False)
    if stage == "in_progress":
        return
    if rng.random() < 0.3:
        actions.note(store, tid, "与相关部门确认处理方案", decision=True, actor=owner,
                     now=clock.step(rng, 20, 180), commit=False)
    resolve = {"solution": solution} if solution else {}
    if typ == "suggestion":
        adopted = rng.random() < 0.6
        resolve = {"solution": "已纳入产品优化计划,预计下季度上线" if adopted else "暂不采纳,已向客户说明原因",
                   "decision": "adopted" if adopted else "rejected",
                   "reason": "用户呼声高,实现成本低" if adopted else "与现有流程冲突,成本过高"}
    late = rng.random() < 0.2  # some tickets breach their resolve clock
    actions.change_status(store, tid, "resolved", actor=owner,
                          now=clock.step(rng, 600 if late else 30, 4000 if late else (120 if fast else 900)),
                          commit=False, **resolve)
    if rng.random() < 0.7:
        score = rng.choices([5, 4, 3, 2, 1], [45, 30, 13, 8, 4])[0]
        actions.rate(store, tid, score, comment=RATING_COMMENTS[score], efficiency=max(1, score - rng.randint(0, 1)),
                     attitude=min(5, score + rng.randint(0, 1)), solution=score, actor=owner,
                     now=clock.step(rng, 10, 600), commit=False)
    if typ in ("complaint", "repair") and rng.random() < 0.8:
        solved = rng.random() < 0.9
        actions.callback(store, tid, result="客户确认问题已解决,对处理结果满意" if solved else "客户反馈问题仍存在",
                         solved=solved, score=rng.choice([4, 5]) if solved else 2, actor=agent_of(rng),
                         now=clock.step(rng, 600, 2800), commit=False)
        if not solved:
            return  # the callback put it back to work (回访未解决)
    if stage == "closed":
        uncalled = typ in ("complaint", "repair") and not store.read(tid, "ticket").doc.get("callbacks")
        actions.change_status(store, tid, "closed", actor=owner, now=clock.step(rng, 10, 600), commit=False,
                              skip_callback=uncalled, reason="客户未接听回访电话" if uncalled else None)


# The example team runs a 24-hour hotline: its SLA counts the wall clock (cslog's defaults count business time).
HOTLINE_SLA = {
    "urgent:    {response: 1bh, update: 4bh, resolve: 4bh}": "urgent:    {response: 1h,  update: 4h,  resolve: 4h} ",
    "important: {response: 4bh, update: 1bd, resolve: 2bd}": "important: {response: 4h,  update: 24h, resolve: 48h}",
    "normal:    {response: 1bd, update: 1bd, resolve: 3bd}": "normal:    {response: 24h, update: 24h, resolve: 3bd}",
    "claim: 2bh                  # 任务卡认领: a ticket must have an owner within 2 business hours":
        "claim: 2h                   # 任务卡认领: a ticket must have an owner within 2 hours",
    "callback: {after: 2bd,": "callback: {after: 48h,",
}


def _hotline(config: str) -> str:
    for default, hotline in HOTLINE_SLA.items():
        assert default in config, default
        config = config.replace(default, hotline, 1)
    return config.replace("# 服务时限 / SLA per priority, in business time:",
                          "# This team runs a 24-hour hotline: its SLA counts the wall clock (h, d) where cslog's defaults\n"
                          "# count business time.\n# 服务时限 / SLA per priority, in business time:", 1)


def agent_of(rng: random.Random) -> str:
    return rng.choice([a for a in AGENTS if a[2] == "客服部"])[1]


def batch_of_complaints(store: Store, rng: random.Random, customers: list[str], when: datetime) -> None:
    """Three complaints about one delayed shipment within a day: the batch rule makes them urgent."""
    for i, customer in enumerate(rng.sample(customers, 3)):
        ops.new_ticket(store, actor="小明", now=when + timedelta(hours=3 * i), customer=customer, channel="phone",
                       type="complaint", priority="important", title="双十一订单超过7天未发货",
                       description="双十一下的单到现在还没发货,页面一直显示待出库。", category="产品质量-物流延误-仓库",
                       expectation="尽快发货", emotion="dissatisfied", commit=False)




def at_the_desk(store: Store, customers: list[str]) -> None:
    """The desk of design 9.4 in a few records: a change after the call, a ticket's planned time, remarks and
    the people involved, an attachment, follow-up reminders (one done, one missed on 2026-11-20)."""
    import tempfile

    from cslog.ops import attach, change

    day = datetime(2026, 11, 19, 10, 0, tzinfo=TZ)
    first = ops.new_contact(store, actor="小明", now=day, customer=customers[0], channel="phone",
                            request="手环屏幕碎裂,要求换货", agreed=["补发新手环", "旧手环寄回"], result="同意换货,补发新品",
                            follow_up="回电确认客户收到新手环", follow_up_at=day + timedelta(days=1, hours=6),
                            started_at=day, ended_at=day + timedelta(minutes=8), commit=False)[0]
    change.set_fields(store, first.id, ["details=补充: 客户提供了订单截图,购买于10月"], actor="小明",
                      now=day + timedelta(minutes=15), commit=False)
    done = ops.new_contact(store, actor="小丽", now=day + timedelta(hours=1), customer=customers[1], channel="phone",
                           request="发票抬头写错,要求重开", result="已登记重开", follow_up="发票重开后通知客户",
                           follow_up_at=day + timedelta(days=1), started_at=day + timedelta(hours=1),
                           ended_at=day + timedelta(hours=1, minutes=5), commit=False)[0]
    attach.followed(store, done.id, actor="小丽", now=day + timedelta(hours=20), note="已电话通知,客户确认",
                    commit=False)
    ticket = ops.new_ticket(store, actor="小明", now=day + timedelta(hours=2), customer=customers[2], type="fault",
                            priority="important", channel="phone", title="手环无法充电",
                            description="手环插上充电器没有反应,换了充电线也不行", commit=False)
    change.set_fields(store, ticket.id, ["planned_at=2026-11-21 18:00", "remarks=客户为老用户,已购三台",
                                         "involved=赵工,小强", "caveats=寄回前提醒客户备份数据"],
                      actor="小华", now=day + timedelta(hours=3), reason="主管安排售后跟进", commit=False)
    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "充电口照片.jpg"
        photo.write_bytes(bytes(random.Random(7).randrange(256) for _ in range(2048)))
        attach.attach(store, ticket.id, [photo], actor="小明", now=day + timedelta(hours=3, minutes=5),
                      note="客户微信发来的照片", commit=False)
    change.set_fields(store, customers[3], ["contact_person=周经理"], actor="小华", now=day + timedelta(hours=4),
                      commit=False)


def october_review(store: Store) -> None:
    """The October review meeting: three typical cases with their lessons, and the handbook it files."""
    from cslog.ops import cases
    from cslog.period import month_period

    meeting = datetime(2026, 10, 30, 16, 0, tzinfo=TZ)
    chosen, seen = [], set()
    for record in sorted(store.iter_records("ticket"), key=lambda r: r.id):
        doc = record.doc
        if (doc.get("status") == "closed" and doc.get("category") and doc["category"] not in seen
                and doc.get("type") in ("complaint", "fault", "repair") and doc["received_at"].startswith("2026-10")):
            chosen.append(record.id)
            seen.add(doc["category"])
        if len(chosen) == 3:
            break
    lessons = {"物流": "先核对订单与物流单号,再主动告知客户预计到达时间,避免客户二次来电",
               "充电": "同类质量问题集中出现时及时升级,由品控部统一排查批次",
               "": "先收集机型与系统版本再转技术部,回访时确认问题已彻底解决"}
    for tid in chosen:
        category = store.read(tid, "ticket").doc["category"]
        lesson = next(text for word, text in lessons.items() if word in category)
        cases.mark_case(store, tid, lesson, actor=SUPERVISOR, now=meeting, commit=False)
    cases.write_handbook(store, month_period("2026-10"), meeting, output=Path("-"), commit_as=SUPERVISOR, commit=False)



def improvement_actions(store: Store) -> None:
    """What the reviews decided (改进措施): in September a fix for the App crashes, done in October and found
    effective in November (4 such tickets in October, 2 in November); in October a batch check of the charging
    faults, late (due 11-13, still open), and a logistics alert due at the end of November."""
    from cslog.ops import actions as improve

    def tickets_of(category: str, before: datetime) -> list[str]:
        found = [r for r in store.iter_records("ticket") if r.doc.get("category") == category
                 and r.doc["received_at"] < before.isoformat()]
        return [r.id for r in sorted(found, key=lambda r: r.doc["received_at"])[-2:]]

    september = datetime(2026, 9, 30, 16, 0, tzinfo=TZ)
    crashes = improve.new_action(
        store, title="App闪退兼容性回归测试", problem="技术故障-App闪退", owner="小强", department="技术部",
        measure="每次手机系统大版本发布后一周内完成App兼容性回归测试,发现问题48小时内发布修复版本",
        due="2026-10-20", tickets=tickets_of("技术故障-App闪退", september), actor=SUPERVISOR, now=september,
        commit=False)
    improve.done(store, crashes.id, "新增系统升级兼容性回归用例,发布修复版本3.2.1", actor="小强",
                 now=datetime(2026, 10, 16, 17, 30, tzinfo=TZ), commit=False)
    improve.review(store, crashes.id, True, "App闪退工单10月4件,11月降至2件", actor=SUPERVISOR,
                   now=datetime(2026, 11, 20, 16, 0, tzinfo=TZ), commit=False)
    october = datetime(2026, 10, 30, 16, 30, tzinfo=TZ)
    improve.new_action(
        store, title="充电故障批次排查", problem="产品质量-充电故障", owner="小芳", department="品控部",
        measure="对10月充电故障集中的批次抽检电池触点,不合格批次下架并通知已购客户换货",
        due="2026-11-13", tickets=tickets_of("产品质量-充电故障", october), actor=SUPERVISOR, now=october,
        commit=False)
    improve.new_action(
        store, title="物流延误预警", problem="产品质量-物流延误", owner="老周", department="运营部",
        measure="超过48小时未更新物流信息的订单每日推送运营部跟进,并主动告知客户预计到达时间",
        due="2026-11-30", tickets=tickets_of("产品质量-物流延误", october), actor=SUPERVISOR, now=october,
        commit=False)


if __name__ == "__main__":
    main()
