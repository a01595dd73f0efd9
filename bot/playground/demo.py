"""The demo workspace: its people and channels (the Slack side), a little channel chatter,
and `seed`, which fills a fresh database with customers, touches and complaints.

`seed` writes through the services (customers.create_customer, touches.log_touch,
complaints.create_complaint, settings.update_settings) as the modals would, and touches the
models directly only where the story needs the past: a complaint opened two days ago. Dates
are relative to `now`, so the demo always has revisits due today and overdue.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.playground.slackdata import Channel, Person
from bot.services import complaints, customers, settings, touches
from bot.services.access import Viewer
from bot.services.complaints import ComplaintInput, ResolveInput
from bot.services.customers import CustomerInput
from bot.services.touches import TouchInput
from bot.services.workspaces import get_workspace
from bot.storage.db import unit_of_work
from bot.storage.models import Complaint, ComplaintEvent, Member

TEAM_ID = "T0DEMO0001"
TEAM_NAME = "Northwind Sales (demo)"
DOMAIN = "northwind-demo"

ADMIN, LEAD, LI, PRIYA, JAKE = "U01MARIA", "U02TOM", "U03LIWEI", "U04PRIYA", "U05JAKE"
PEOPLE = [
    Person(ADMIN, "maria", "Maria García", "Europe/Madrid", "en-US", "Head of Sales", "maria@northwind.example",
           is_admin=True, is_owner=True, color="#2eb67d", role="admin"),
    Person(LEAD, "tom", "Tom Becker", "Europe/Berlin", "en-GB", "Key Account Lead", "tom@northwind.example",
           color="#e01e5a", role="lead"),
    Person(LI, "liwei", "李伟 Li Wei", "Asia/Shanghai", "zh-CN", "客户经理", "li.wei@northwind.example",
           color="#ecb22e", role="member"),
    Person(PRIYA, "priya", "Priya Sharma", "Asia/Kolkata", "en-IN", "Account Manager", "priya@northwind.example",
           color="#36c5f0", role="member"),
    Person(JAKE, "jake", "Jake Miller", "America/New_York", "en-US", "Sales Rep", "jake@northwind.example",
           color="#9b59b6", role="member"),
]  # fmt: skip

GENERAL, SALES, COMPLAINTS = "C01GENERAL", "C02SALES", "C03COMPLAINTS"
CHANNELS = [
    Channel(GENERAL, "general", "Company-wide announcements and work-based matters"),
    Channel(SALES, "sales", "Deals, customer news and who is visiting whom"),
    Channel(COMPLAINTS, "complaints", "Every customer complaint, with its thread"),
]

# Messages people wrote before you arrived: try "Log as touch" or "Log as complaint" on them.
CHATTER: list[tuple[str, str, str]] = [
    (GENERAL, ADMIN, "Welcome to the touchbase playground! Type `/crm help` in any channel, or open *touchbase* "
                     "in the sidebar. Everything you do here stays on this computer."),
    (SALES, JAKE, "Just got off the phone with Acme Ltd: they want 200 units by Friday and a quote for the "
                  "service plan."),
    (SALES, LI, "今天拜访了上海宏达贸易，张伟说下个季度的订单会增加 30%，需要我们尽快报价。"),
    (SALES, PRIYA, "Blue Harbor Foods asked for a visit next week to walk the new cold-storage line."),
    (COMPLAINTS, LEAD, "Northwind Traders called: the last two deliveries arrived damaged and they are "
                       "unhappy about it."),
    (COMPLAINTS, LI, "深圳创新电子投诉：上周的发票金额不对，多收了一万二。"),
]  # fmt: skip

# name, company, contact, title, grade, segment, owner, tags, days since last touch,
# next revisit relative to today (negative: overdue), number of touches
CUSTOMERS: list[tuple[str, str, str, str, str, str, str, str, int, int, int]] = [
    ("Acme Ltd", "Acme Group", "Laura Chen", "Buyer", "A", "key", JAKE, "vip, manufacturing", 9, -2, 6),
    ("Northwind Traders", "Northwind Holdings", "Peter Olsen", "Procurement", "A", "key", LEAD, "vip, retail", 4, 3, 5),
    ("Blue Harbor Foods", "Blue Harbor", "Sam Ortiz", "Operations", "B", "regular", PRIYA, "food, cold chain", 31, -1, 4),
    ("Crescent Optics", "Crescent Optics GmbH", "Anna Weber", "CTO", "B", "regular", LEAD, "optics", 20, 10, 3),
    ("Fjord Logistics", "Fjord AS", "Ingrid Dahl", "Head of Logistics", "C", "potential", ADMIN, "logistics", 95, -5, 2),
    ("Granite & Co", "Granite & Co", "Mark Stone", "Owner", "B", "new", JAKE, "construction", 12, 0, 2),
    ("Helios Solar", "Helios Energy", "Carla Ruiz", "Buyer", "A", "key", ADMIN, "energy, vip", 7, 0, 5),
    ("Ivy Lane Bakery", "Ivy Lane", "Tess Moore", "Owner", "C", "regular", PRIYA, "food", 60, 30, 2),
    ("Juniper Health", "Juniper Health Group", "Dr. Amir Haddad", "Director", "A", "key", PRIYA, "health, vip", 10, -3, 4),
    ("Kestrel Aviation", "Kestrel Air", "Owen Price", "Fleet Manager", "B", "regular", JAKE, "aviation", 28, 2, 3),
    ("Lumen Labs", "Lumen Labs Inc.", "Nina Patel", "Research Lead", "B", "new", PRIYA, "research", 3, 27, 1),
    ("Maple Leaf Dairy", "Maple Leaf Co-op", "Guy Tremblay", "Purchasing", "C", "potential", JAKE, "food", 120, -30, 1),
    ("Nimbus Cloudworks", "Nimbus", "Raj Iyer", "VP IT", "A", "key", PRIYA, "software, vip", 8, -1, 5),
    ("Orchard Vineyards", "Orchard Estates", "Chloé Martin", "Owner", "B", "regular", ADMIN, "wine", 33, -3, 3),
    ("Pioneer Tools", "Pioneer Industrial", "Bill Turner", "Buyer", "B", "regular", JAKE, "tools", 25, 5, 3),
    ("Quarry Stone Works", "Quarry Group", "Ellen Brooks", "COO", "C", "regular", LEAD, "construction", 80, 10, 2),
    ("Riverside Clinic", "Riverside Health", "Dr. Lena Vogel", "Administrator", "B", "new", LEAD, "health", 14, 16, 2),
    ("Summit Outdoor", "Summit Retail", "Jon Hale", "Category Manager", "A", "key", JAKE, "retail", 6, 1, 4),
    ("Tidewater Marine", "Tidewater", "Kai Larsen", "Fleet Buyer", "C", "potential", PRIYA, "marine", 45, 45, 1),
    ("上海宏达贸易", "上海宏达国际贸易有限公司", "张伟", "采购经理", "A", "key", LI, "重要, 上海", 8, -1, 6),
    ("北京华泰科技", "华泰科技集团", "王芳", "技术总监", "A", "key", LI, "科技, 北京", 5, 2, 5),
    ("深圳创新电子", "创新电子有限公司", "李娜", "采购", "B", "regular", LI, "电子, 深圳", 35, -5, 4),
    ("杭州西湖茶业", "西湖茶业", "刘洋", "老板", "C", "regular", LI, "茶叶", 70, 20, 2),
    ("广州南方物流", "南方物流股份", "陈静", "运营经理", "B", "regular", LI, "物流, 广州", 26, 4, 3),
    ("成都熊猫食品", "熊猫食品有限公司", "杨磊", "采购主管", "B", "new", LI, "食品, 成都", 15, 15, 2),
    ("苏州园林建筑", "园林建筑设计院", "赵敏", "项目经理", "C", "potential", LEAD, "建筑", 100, -10, 1),
    ("武汉长江机械", "长江机械制造", "黄强", "设备科长", "B", "regular", LI, "机械, 武汉", 30, 0, 3),
    ("南京金陵制药", "金陵制药集团", "周婷", "质量经理", "A", "key", LI, "医药, 重要", 6, 1, 5),
    ("天津海港航运", "海港航运", "吴斌", "调度", "C", "regular", PRIYA, "航运", 92, -2, 2),
    ("重庆山城火锅", "山城餐饮连锁", "郑浩", "店长", "C", "new", LI, "餐饮", 40, 50, 1),
    ("厦门鼓浪屿文旅", "鼓浪屿文旅集团", "孙悦", "市场部", "B", "potential", JAKE, "旅游", 18, 12, 2),
    ("青岛海风酿造", "海风酿造", "马丽", "采购", "B", "regular", LI, "饮料, 青岛", 29, -1, 3),
    ("西安古城文具", "古城文具", "朱军", "老板", "C", "regular", ADMIN, "文具", 85, 5, 1),
    ("大连星海渔业", "星海渔业", "胡杰", "总经理", "B", "key", LEAD, "渔业, 大连", 22, 8, 3),
]  # fmt: skip

_SUMMARIES = {
    "en": ["Quarterly review: volumes steady, they want better lead times.",
           "Sent the new price list and the service plan.",
           "Visited the site; walked the production line with the plant manager.",
           "Call about the open order: delivery confirmed for next week.",
           "They asked for references from customers in their industry.",
           "Lunch meeting: budget for next year looks 10% higher.",
           "Follow-up on the quote; they are comparing two suppliers.",
           "Chat about the new contact person taking over purchasing."],
    "zh": ["季度回顾：订单量稳定，希望缩短交货期。",
           "发送了新的价格表和服务方案。",
           "现场拜访，和厂长一起看了生产线。",
           "电话确认在途订单，下周到货。",
           "客户希望提供同行业的参考案例。",
           "午餐会谈：明年预算预计增加一成。",
           "跟进报价，客户在比较两家供应商。",
           "聊到新的采购负责人接手的安排。"],
}  # fmt: skip
_KINDS = ("call", "email", "visit", "call", "meeting", "chat", "email", "call")

# customer name, title, severity, category, assignee, hours since it was opened, then: None
# (open), "acknowledge", "wait" or "resolve"
COMPLAINT_STORIES: list[tuple[str, str, str, str, str, float, str | None]] = [
    ("Northwind Traders", "Two deliveries arrived damaged", "high", "delivery", LEAD, 1, None),
    ("深圳创新电子", "发票金额多收一万二", "normal", "billing", LI, 30, None),
    ("Acme Ltd", "Service visit missed", "urgent", "service", JAKE, 3, None),
    ("Blue Harbor Foods", "Cold-storage sensor keeps failing", "normal", "product", PRIYA, 50, "acknowledge"),
    ("上海宏达贸易", "包装破损，需要换货", "low", "product", LI, 72, "wait"),
    ("Helios Solar", "Wrong panel model shipped", "high", "delivery", ADMIN, 120, "resolve"),
]  # fmt: skip




def _as(user_id: str) -> Viewer:
    """The demo's data is written as its people would, each seeing all (they are set up here)."""
    return Viewer(team_id=TEAM_ID, user_id=user_id, sees_all=True, admin=True)


def seed(session_factory: sessionmaker[Session], now: dt.datetime) -> None:
    """Fill an empty database with the demo workspace as of `now`."""
    with unit_of_work(session_factory, now=now) as session:
        _team(session)
    with unit_of_work(session_factory, now=now) as session:
        _customers(session, now)
    with unit_of_work(session_factory, now=now) as session:
        _complaints(session, now)


def _team(session: Session) -> None:
    get_workspace(session, TEAM_ID)
    for person in PEOPLE:
        session.add(Member(team_id=TEAM_ID, user_id=person.id, name=person.real_name, tz=person.tz,
                           locale=person.locale, is_slack_admin=person.is_admin))  # fmt: skip
    session.flush()
    data = settings.SettingsInput(admins=[ADMIN], leads=[LEAD], tz="Europe/Berlin", complaints_channel=COMPLAINTS,
                                  escalation_channel=COMPLAINTS, report_channel=SALES)  # fmt: skip
    settings.update_settings(session=session, viewer=_as(ADMIN), data=data, surface="demo")


def _customers(session: Session, now: dt.datetime) -> None:
    rng = random.Random(16)
    today = now.date()
    for i, (name, company, contact, title, grade, segment, owner, tags, last, revisit, count) in enumerate(CUSTOMERS):
        chinese = any("\u4e00" <= ch <= "\u9fff" for ch in name)
        handle = contact.split()[-1].lower().strip(".")
        data = CustomerInput(
            name=name, company=company, contact_name=contact, title=title, grade=grade, segment=segment,
            owner_id=owner, tags=tags,
            email=f"contact{i + 1}@example.cn" if chinese else f"{handle}@example.com",
            phone=f"+86 138 {1000 + i:04d} {2000 + 7 * i:04d}" if chinese else f"+1 555 01{i:02d}",
        )  # fmt: skip
        customer = customers.create_customer(session=session, viewer=_as(owner), data=data, surface="demo")
        # Older touches first, spread over the past months; the last one sets the next revisit.
        ages = sorted((last + rng.randint(7, 150) for _ in range(count - 1)), reverse=True) + [last]
        summaries = _SUMMARIES["zh" if chinese else "en"]
        for n, age in enumerate(ages):
            newest = n == len(ages) - 1
            touch = TouchInput(
                customer=customer.id, kind=_KINDS[(i + n) % len(_KINDS)],
                summary=summaries[(i * 3 + n) % len(summaries)],
                happened_at=now - dt.timedelta(days=age, hours=rng.randint(0, 8)),
                next_revisit=today + dt.timedelta(days=revisit) if newest else None,
            )  # fmt: skip
            touches.log_touch(session=session, viewer=_as(owner), data=touch, tz=None, surface="demo", now=now)


def _complaints(session: Session, now: dt.datetime) -> None:
    by_name = {c.name: c for c in customers.all_customers(session=session, viewer=Viewer.whole_team(TEAM_ID))}
    for title_owner in COMPLAINT_STORIES:
        name, title, severity, category, assignee, hours, then = title_owner
        data = ComplaintInput(customer=by_name[name].id, title=title, severity=severity, category=category,
                              assignee_id=assignee)  # fmt: skip
        card = complaints.create_complaint(session=session, viewer=_as(assignee), data=data, permalink=None,
                                           surface="demo", now=now)  # fmt: skip
        _opened_earlier(session, card.complaint, dt.timedelta(hours=hours))
        if then is not None:
            resolution = ResolveInput(resolution="Replaced the panels and refunded the freight.", satisfaction=4)
            complaints.change_state(
                session=session, viewer=_as(assignee), complaint_id=card.complaint.id, action=then, surface="demo",
                now=now, resolution=resolution if then == "resolve" else None,
            )  # fmt: skip


def _opened_earlier(session: Session, complaint: Complaint, ago: dt.timedelta) -> None:
    """Move a complaint just opened back in time, its deadlines with it."""
    for column in ("opened_at", "first_response_due", "resolution_clock_started_at", "resolution_due", "created_at"):
        value = getattr(complaint, column)
        if value is not None:
            setattr(complaint, column, value - ago)
    for event in session.scalars(select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint.id)):
        event.at -= ago
    session.flush()
