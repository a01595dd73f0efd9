"""Deterministic benchmark data: workspaces, members, customers, touches and complaints.

    python -m bench.generate --database-url sqlite:///bench.db --customers 10000 --touches 100000 \
        --complaints 5000 --members 200 --team T0BENCH01 --seed 1

Counts are per team. The same seed and anchor date give the same rows. Names are English
and Chinese in about equal parts; ownership is skewed (Zipf) so a few managers own many
customers, and touches favour a minority of busy customers, as in a real book of business.
Customers have values and stages with their history (some lost, with reasons), and some
touches' next steps are follow-ups (bench/lifecycle_data.py).
`--due-share` sets how many customers have a revisit due (today or overdue).

Rows are written with bulk inserts (SQLAlchemy Core executemany on SQLite, COPY on
PostgreSQL) under explicit ids, so a million touches load in minutes, not hours. A team
whose data was generated with the same parameters is reused as it is (see `ensure`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import logging
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, delete, func, select, text, update
from sqlalchemy.engine import Connection, make_url

from bench.lifecycle_data import Lifecycle
from bot.services.find import name_key
from bot.storage.crypto import lookup_hash
from bot.storage.db import make_engine, refresh_statistics, upgrade
from bot.storage.models import (
    AuditEvent,
    Complaint,
    ComplaintEvent,
    Customer,
    FollowUp,
    Member,
    Notification,
    SearchGram,
    SearchLine,
    StageChange,
    Touch,
    Workspace,
)
from bot.storage.pinyin import search_key
from bot.storage.schema import stored_columns
from bot.storage.search import han, search_doc, search_lines

log = logging.getLogger(__name__)
BATCH = 5000  # rows per executemany / COPY chunk: large enough to amortise, small enough for memory

# --- word lists: enough combinations for 100k distinct names per team ----------------------

EN_FIRST = (
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Emma Olivia Noah Liam "
    "Sophia Lucas Mia Ethan Grace Oliver Chloe Henry Zoe Samuel Hannah"
).split()
EN_LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Wilson Anderson "
    "Taylor Thomas Moore Jackson Martin Lee Thompson White Harris Clark Lewis Walker Hall Young "
    "King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Carter Turner Parker Evans"
).split()
EN_CO_A = (
    "North South Blue Red Silver Golden Pacific Atlantic Summit Pioneer Evergreen Crescent Harbor "
    "Granite Cedar Maple Iron Bright Apex Vertex Sterling Liberty Union Eagle Falcon Oak River"
).split()
EN_CO_B = "wind stone field bridge water ridge gate point wood lake view crest brook haven".split()
EN_INDUSTRY = (
    "Trading Logistics Foods Systems Software Manufacturing Textiles Electronics Health "
    "Consulting Retail Energy Construction Analytics Media Pharma Motors Supplies"
).split()
EN_SUFFIX = "Ltd Inc LLC Co Group Corp GmbH PLC".split()
EN_CITY = "London Boston Austin Seattle Denver Toronto Sydney Dublin Berlin Singapore".split()
EN_TITLE = ("Buyer", "Purchasing Manager", "CEO", "CTO", "Operations Lead", "Owner", "Procurement Officer")

# (hanzi, pinyin), so Chinese contacts get plausible ASCII e-mail addresses.
ZH_SURNAME = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"),
    ("林", "lin"), ("罗", "luo"),
]  # fmt: skip
ZH_GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("秀英", "xiuying"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"),
    ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"),
    ("秀兰", "xiulan"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂英", "guiying"),
]  # fmt: skip
ZH_CITY = "上海 北京 深圳 广州 杭州 成都 南京 武汉 西安 苏州 天津 重庆 厦门 青岛 宁波 长沙 郑州 合肥 大连 昆明".split()
ZH_CORE = [
    ("华信", "huaxin"), ("中科", "zhongke"), ("东方", "dongfang"), ("金桥", "jinqiao"), ("宏达", "hongda"),
    ("永泰", "yongtai"), ("恒通", "hengtong"), ("新元", "xinyuan"), ("天成", "tiancheng"),
    ("瑞丰", "ruifeng"), ("德隆", "delong"), ("国安", "guoan"), ("鼎盛", "dingsheng"), ("博远", "boyuan"),
    ("启明", "qiming"), ("汇通", "huitong"), ("长城", "changcheng"), ("海纳", "haina"), ("锦程", "jincheng"),
    ("安泰", "antai"), ("兴业", "xingye"), ("正大", "zhengda"), ("富华", "fuhua"), ("嘉禾", "jiahe"),
    ("盛世", "shengshi"), ("明德", "mingde"), ("万通", "wantong"), ("联创", "lianchuang"),
    ("光大", "guangda"), ("鑫源", "xinyuan"),
]  # fmt: skip
ZH_INDUSTRY = "贸易 科技 物流 食品 电子 纺织 建设 医药 软件 机械 能源 传媒 咨询 化工 家居".split()
ZH_SUFFIX = ("有限公司", "股份有限公司", "集团")
ZH_TITLE = ("采购经理", "总经理", "技术总监", "运营主管", "老板", "采购专员")
TAGS = ("vip", "shanghai", "beijing", "export", "渠道", "重点", "trial", "renewal", "partner", "wholesale")
KINDS = ("call", "email", "meeting", "visit", "chat", "note")
EN_SUMMARY = (
    "Discussed the {q} order and delivery dates",
    "Sent the updated price list; waiting for feedback",
    "Visited the warehouse, met the {t}",
    "Follow-up on invoice #{n}",
    "Demo of the new model went well; asks for a quote",
    "Complained about late delivery, promised a call back",
)
ZH_SUMMARY = (
    "沟通了{q}订单和交货时间",
    "发送了新的报价单，等待反馈",
    "拜访了仓库，见到了{t}",
    "跟进第{n}号发票",
    "新产品演示顺利，客户要求报价",
    "客户抱怨交货延迟，已承诺回电",
)
COMPLAINT_TITLES = (
    "Late delivery", "Wrong invoice amount", "Damaged goods", "No answer from support", "Missing parts",
    "交货延迟", "发票金额错误", "货物损坏", "客服无人回复", "缺少零件",
)  # fmt: skip


@dataclass(frozen=True)
class Scale:
    customers: int = 1000
    touches: int = 10000
    complaints: int = 500
    members: int = 50
    seed: int = 1
    # Share of customers whose next revisit is due (today or up to 30 days overdue): the
    # scheduler's sweep benchmark sets it to get, e.g., 100k due revisits from 100k customers.
    due_share: float = 0.2
    # Dates are spread around this day; the same seed and anchor give the same rows.
    anchor: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())

    def fingerprint(self) -> str:
        return (
            f"touchbase bench: customers={self.customers} touches={self.touches} complaints={self.complaints} "
            f"members={self.members} due={self.due_share:g} seed={self.seed} anchor={self.anchor.isoformat()} "
            "lifecycle=1"
        )


@dataclass(frozen=True)
class TeamData:
    """What the benchmarks need to know about a generated team, without querying for it."""

    team_id: str
    members: tuple[str, ...]  # user ids, busiest owner first
    sample_names: tuple[str, ...]  # customer names for `show` and `find`
    sample_numbers: tuple[int, ...]


# --- generation ------------------------------------------------------------------------------


def _zipf_cum_weights(n: int, s: float = 1.0) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank**s) for rank in range(1, n + 1)))


class _Names:
    """Distinct customer names per team, half English, half Chinese."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken: set[str] = set()

    def person(self, chinese: bool) -> tuple[str, str]:
        """A person's name and an ASCII handle for e-mail addresses."""
        r = self.rng
        if chinese:
            (sur, sur_py), (given, given_py) = r.choice(ZH_SURNAME), r.choice(ZH_GIVEN)
            return sur + given, f"{given_py}.{sur_py}"
        first, last = r.choice(EN_FIRST), r.choice(EN_LAST)
        return f"{first} {last}", f"{first}.{last}".lower()

    def company(self, chinese: bool) -> tuple[str, str]:
        """A company name and a slug for its mail domain."""
        r = self.rng
        if chinese:
            core, core_py = r.choice(ZH_CORE)
            return f"{r.choice(ZH_CITY)}{core}{r.choice(ZH_INDUSTRY)}{r.choice(ZH_SUFFIX)}", core_py
        if r.random() < 0.25:
            a, b = r.choice(EN_LAST), r.choice(EN_LAST)
            return f"{a} & {b} {r.choice(EN_INDUSTRY)}", f"{a}{b}".lower()
        a, b = r.choice(EN_CO_A), r.choice(EN_CO_B)
        return f"{a}{b} {r.choice(EN_INDUSTRY)} {r.choice(EN_SUFFIX)}", f"{a}{b}".lower()

    def unique(self, name: str, chinese: bool) -> str:
        # Real books of business hold branches of one company: "Acme Ltd (Boston)", "…（深圳）".
        candidate = name
        for attempt in itertools.count(1):
            if name_key(candidate) not in self.taken:
                self.taken.add(name_key(candidate))
                return candidate
            city = self.rng.choice(ZH_CITY if chinese else EN_CITY)
            candidate = f"{name}（{city}）" if chinese else f"{name} ({city})"
            if attempt > 3:
                candidate += f" {attempt}"
        raise AssertionError("unreachable")


def _phone(rng: random.Random, chinese: bool) -> str:
    if chinese:
        return f"+86 13{rng.randint(0, 9)} {rng.randint(0, 9999):04d} {rng.randint(0, 9999):04d}"
    return f"+1 ({rng.randint(201, 989)}) 555-{rng.randint(0, 9999):04d}"


def _at(anchor: dt.date, days_ago: float) -> dt.datetime:
    base = dt.datetime.combine(anchor, dt.time(12), tzinfo=dt.UTC)
    return base - dt.timedelta(days=days_ago)


def _member_rows(team_id: str, scale: Scale, first_id: int, rng: random.Random) -> list[dict[str, Any]]:
    names = _Names(rng)
    fetched = _at(scale.anchor, 0)
    rows = []
    for i in range(scale.members):
        chinese = rng.random() < 0.5
        rows.append({
            "id": first_id + i, "team_id": team_id, "user_id": f"U{team_id[-4:]}{i:06d}",
            "name": names.person(chinese)[0], "tz": "Asia/Shanghai" if chinese else "America/New_York",
            "locale": "zh-CN" if chinese else "en-US", "role": "admin" if i == 0 else None,
            "is_slack_admin": i == 0, "digest_enabled": True, "digest_time": None,
            "profile_fetched_at": fetched, "created_at": _at(scale.anchor, 1000),
        })  # fmt: skip
    return rows


def _customer_rows(
    team_id: str, scale: Scale, first_id: int, owners: Sequence[str], rng: random.Random
) -> Iterator[dict[str, Any]]:
    names = _Names(rng)
    cum = _zipf_cum_weights(len(owners))
    for i in range(scale.customers):
        chinese = rng.random() < 0.5
        company, slug = names.company(chinese)
        # One in five customers is a person rather than a company.
        is_person = rng.random() < 0.2
        contact, handle = names.person(chinese)
        name = names.unique(contact if is_person else company, chinese)
        owner = rng.choices(owners, cum_weights=cum)[0]
        created = _at(scale.anchor, rng.uniform(30, 1500))
        u = rng.random()
        if u < scale.due_share:
            revisit: dt.date | None = scale.anchor - dt.timedelta(days=rng.randint(0, 30))
        elif u < scale.due_share + (1 - scale.due_share) * 0.6:  # most of the rest: a revisit ahead
            revisit = scale.anchor + dt.timedelta(days=rng.randint(1, 90))
        else:
            revisit = None
        tags = ", ".join(rng.sample(TAGS, rng.randint(0, 3))) or None
        email, phone = f"{handle}@{slug}.example.{'cn' if chinese else 'com'}", _phone(rng, chinese)
        yield {
            "id": first_id + i, "team_id": team_id, "number": i + 1, "name": name, "name_key": name_key(name),
            "company": None if is_person else company, "contact_name": contact,
            "title": rng.choice(ZH_TITLE if chinese else EN_TITLE),
            # Core inserts skip the ORM's listener, so the lookup hashes are computed here.
            "email": email, "phone": phone,
            "email_hash": lookup_hash("email", email), "phone_hash": lookup_hash("phone", phone),
            "search_key": search_key(name, None if is_person else company, contact),
            "search_doc": search_doc(name=name, company=None if is_person else company, contact_name=contact,
                                     email=email, phone=phone, tags=tags),
            "address": f"{rng.randint(1, 999)} {'南京路' if chinese else 'Main St'}",
            "owner_id": owner, "grade": rng.choices("ABC", weights=(2, 5, 3))[0],
            "segment": rng.choice(("potential", "new", "regular", "key")),
            "needs": None, "preferences": None, "tags": tags, "next_revisit": revisit,
            "revisits_enabled": True, "erased_at": None, "last_touch_at": None, "created_by": owner,
            "created_at": created, "updated_at": created,
        }  # fmt: skip


def _skewed_index(rng: random.Random, n: int) -> int:
    # Squaring a uniform number: the first tenth of customers gets about a third of the touches.
    return min(n - 1, int(n * rng.random() ** 2))


def _touch_rows(
    team_id: str, scale: Scale, first_id: int, customers: Sequence[tuple[int, str, bool]],
    members: Sequence[str], rng: random.Random,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    for i in range(scale.touches):
        customer_id, owner, chinese = customers[_skewed_index(rng, len(customers))]
        # Recent history is denser than old history: days ago ~ 1100 * u^2.
        at = _at(scale.anchor, 1100 * rng.random() ** 2)
        template = rng.choice(ZH_SUMMARY if chinese else EN_SUMMARY)
        summary = template.format(q=rng.choice(("Q1", "Q2", "Q3", "Q4")), t="buyer", n=rng.randint(100, 9999))
        yield {
            "id": first_id + i, "team_id": team_id, "customer_id": customer_id,
            "author_id": owner if rng.random() < 0.8 else rng.choice(members), "speaker_id": None,
            "kind": rng.choice(KINDS), "summary": summary,
            "outcome": None, "next_step": "call back next week" if rng.random() < 0.3 else None,
            "happened_at": at, "permalink": None, "created_at": at, "updated_at": at,
        }  # fmt: skip


def _complaint_rows(
    team_id: str, scale: Scale, first_id: int, customers: Sequence[tuple[int, str, bool]],
    members: Sequence[str], rng: random.Random,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    for i in range(scale.complaints):
        customer_id, owner, _ = customers[_skewed_index(rng, len(customers))]
        opened = _at(scale.anchor, 400 * rng.random() ** 2)
        state = rng.choices(("open", "resolved", "closed"), weights=(2, 3, 5))[0]
        done = state != "open"
        resolved = opened + dt.timedelta(hours=rng.uniform(1, 200)) if done else None
        yield {
            "id": first_id + i, "team_id": team_id, "number": i + 1, "customer_id": customer_id,
            "title": rng.choice(COMPLAINT_TITLES), "description": None,
            "severity": rng.choices(("low", "normal", "high", "urgent"), weights=(2, 6, 2, 1))[0],
            "category": rng.choice(("product", "service", "billing", "delivery")), "state": state,
            "author_id": rng.choice(members), "assignee_id": owner, "permalink": None,
            "channel_id": None, "thread_ts": None, "opened_at": opened,
            "first_response_at": opened + dt.timedelta(hours=rng.uniform(0.1, 8)) if done or rng.random() < 0.5 else None,
            "resolved_at": resolved, "closed_at": resolved if state == "closed" else None,
            "first_response_due": opened + dt.timedelta(hours=4), "resolution_due": opened + dt.timedelta(days=3),
            "resolution_clock_started_at": opened, "paused_at": None, "cycle": 1, "escalation_level": 0,
            "resolution": "Refunded" if done else None, "satisfaction": rng.randint(1, 5) if done else None,
            "created_at": opened, "updated_at": resolved or opened,
        }  # fmt: skip


# --- writing ---------------------------------------------------------------------------------


def _chunks(rows: Iterable[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _bulk_insert(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert rows in batches: COPY on PostgreSQL (several times faster than INSERT), Core
    executemany elsewhere. Every row dict must have every stored column (not those the database
    computes), in table order."""
    count = 0
    if conn.dialect.name == "postgresql":
        columns = [c.name for c in stored_columns(table)]
        cursor = conn.connection.driver_connection.cursor()  # psycopg 3
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
                count += 1
        return count
    for chunk in _chunks(rows):
        conn.execute(table.insert(), chunk)
        count += len(chunk)
    return count


def _next_id(conn: Connection, table: Table) -> int:
    return int(conn.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1


def _bump_sequences(conn: Connection) -> None:
    """Rows were written under explicit ids; move PostgreSQL's sequences past them so the
    bot's own inserts get fresh ids."""
    if conn.dialect.name != "postgresql":
        return
    for model in (Member, Customer, Touch, Complaint, StageChange, FollowUp):
        name = model.__tablename__
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM {name}), false)"
        ))  # fmt: skip


def delete_team(conn: Connection, team_id: str) -> None:
    for model in (ComplaintEvent, Complaint, FollowUp, StageChange, Touch, Notification, AuditEvent, SearchGram,
                  SearchLine, Customer, Member, Workspace):
        conn.execute(delete(model).where(model.team_id == team_id))


def _team_rng(seed: int, team_id: str) -> random.Random:
    # A string seed is hashed deterministically (unlike hash(), which is salted per process).
    return random.Random(f"{seed}:{team_id}")


def generate_team(engine: Engine, team_id: str, scale: Scale, *, settle: bool = True) -> None:
    """Replace the team's data with freshly generated rows, in one transaction (then settle the
    database, `_settle`, unless the caller does once for many teams)."""
    rng = _team_rng(scale.seed, team_id)
    started = time.monotonic()
    with engine.begin() as conn:
        delete_team(conn, team_id)
        conn.execute(Workspace.__table__.insert(), [{
            "team_id": team_id, "name": scale.fingerprint(), "settings": {},
            "last_customer_number": scale.customers, "last_complaint_number": scale.complaints,
            "created_at": _at(scale.anchor, 1500),
        }])  # fmt: skip
        members = _member_rows(team_id, scale, _next_id(conn, Member.__table__), rng)
        _bulk_insert(conn, Member.__table__, members)
        owners = [m["user_id"] for m in members]

        first_customer = _next_id(conn, Customer.__table__)
        customers: list[tuple[int, str, bool]] = []  # (id, owner, chinese): what touches need

        grams: list[dict[str, Any]] = []
        texts: list[tuple[int, str, str, str | None]] = []  # (id, name key, search text, pinyin key)

        lifecycle = Lifecycle(scale.seed, team_id, scale.anchor)

        def keep(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
            for row in map(lifecycle.customer, rows):
                customers.append((row["id"], row["owner_id"], not row["name"].isascii()))
                grams.extend({"team_id": team_id, "gram": g, "customer_id": row["id"]} for g in han(row["search_doc"]))
                texts.append((row["id"], row["name_key"], row["search_doc"], row["search_key"]))
                yield row

        _bulk_insert(conn, Customer.__table__, keep(_customer_rows(team_id, scale, first_customer, owners, rng)))
        # What the models' listener writes for the ORM.
        _bulk_insert(conn, SearchGram.__table__, grams)
        _bulk_insert(conn, SearchLine.__table__, (
            {"team_id": team_id, "line": line, "name_key": key, "customer_id": cid}
            for cid, key, doc, pinyin in texts for line in search_lines(doc, pinyin)
        ))  # fmt: skip
        log.info("%s: %d members, %d customers", team_id, len(owners), len(customers))
        if customers:
            n = _bulk_insert(conn, Touch.__table__, map(lifecycle.touch, _touch_rows(
                team_id, scale, _next_id(conn, Touch.__table__), customers, owners, rng)))  # fmt: skip
            log.info("%s: %d touches", team_id, n)
            n = _bulk_insert(conn, StageChange.__table__, lifecycle.change_rows(_next_id(conn, StageChange.__table__)))
            m = _bulk_insert(conn, FollowUp.__table__, lifecycle.follow_up_rows(_next_id(conn, FollowUp.__table__)))
            log.info("%s: %d stage changes, %d follow-ups", team_id, n, m)
            n = _bulk_insert(conn, Complaint.__table__, _complaint_rows(
                team_id, scale, _next_id(conn, Complaint.__table__), customers, owners, rng))  # fmt: skip
            log.info("%s: %d complaints", team_id, n)
            _set_last_touch(conn, team_id)
        _bump_sequences(conn)
    if settle:
        _settle(engine)
    log.info("%s generated in %.1f s", team_id, time.monotonic() - started)


def _settle(engine: Engine) -> None:
    """A settled database: fresh planner statistics (also after a migration changed columns of
    data that is reused) and, on PostgreSQL, the dead rows vacuumed. In production PostgreSQL's
    autovacuum does both in its own time, and on SQLite `serve` and the scheduler take the
    statistics (`refresh_statistics`). Unvacuumed, the generator's update of every customer's
    last touch leaves none of the table's pages marked all-visible (as, on some pages, do each
    run's undone writes), and an index-only scan reads the table too: the busiest owner's revisit count took 14.3 ms
    against 1.3 vacuumed (docs/PERFORMANCE.md, section 46)."""
    refresh_statistics(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))


def _set_last_touch(conn: Connection, team_id: str) -> None:
    """Each customer's latest touch, from one grouped pass over the touches (`UPDATE … FROM`).
    PostgreSQL first gets statistics of the rows copied in this transaction (ANALYZE sees its
    own transaction's rows): planning with those of an emptied table, it read the touches
    once per customer."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE customer, touch"))
    latest = (
        select(Touch.customer_id, func.max(Touch.happened_at).label("at"))
        .where(Touch.team_id == team_id)
        .group_by(Touch.customer_id)
        .subquery()
    )
    conn.execute(update(Customer).where(Customer.team_id == team_id, Customer.id == latest.c.customer_id)
                 .values(last_touch_at=latest.c.at))  # fmt: skip


def team_data(engine: Engine, team_id: str, *, samples: int = 50) -> TeamData:
    """Members (busiest owner first) and sample customers, read back from the database."""
    with engine.connect() as conn:
        owners = conn.execute(
            select(Member.user_id, func.count(Customer.id).label("n"))
            .join(Customer, (Customer.team_id == Member.team_id) & (Customer.owner_id == Member.user_id), isouter=True)
            .where(Member.team_id == team_id)
            .group_by(Member.user_id)
            .order_by(text("n DESC"), Member.user_id)
        ).all()
        total = conn.scalar(select(func.count()).select_from(Customer).where(Customer.team_id == team_id)) or 0
        step = max(1, total // samples)
        picked = conn.execute(
            select(Customer.name, Customer.number)
            .where(Customer.team_id == team_id, Customer.number % step == 0)
            .order_by(Customer.number)
            .limit(samples)
        ).all()
    return TeamData(
        team_id=team_id,
        members=tuple(u for u, _ in owners),
        sample_names=tuple(n for n, _ in picked),
        sample_numbers=tuple(n for _, n in picked),
    )


def ensure(engine: Engine, team_ids: Sequence[str], scale: Scale, *, fresh: bool = False) -> list[TeamData]:
    """Migrate, then generate each team unless it already holds data of exactly this scale."""
    ensure_teams(engine, team_ids, scale, fresh=fresh)
    return [team_data(engine, team_id) for team_id in team_ids]


def ensure_teams(engine: Engine, team_ids: Sequence[str], scale: Scale, *, fresh: bool = False) -> int:
    """Migrate, generate each team that does not hold data of exactly this scale, then settle
    the database once (`_settle`); returns how many teams were generated."""
    upgrade(engine)
    with engine.connect() as conn:
        have = dict(conn.execute(select(Workspace.team_id, Workspace.name).where(Workspace.team_id.in_(team_ids))).all())
    made = 0
    for team_id in team_ids:
        if fresh or have.get(team_id) != scale.fingerprint():
            generate_team(engine, team_id, scale, settle=False)
            made += 1
    if len(team_ids) <= 3:
        log.info("%s: %s", ", ".join(team_ids), f"generated {made}" if made else "reusing data")
    _settle(engine)
    return made


def bench_engine(url: str) -> Engine:
    """The engine for `url`; a SQLite file's folder (e.g. the ignored `bench/out/`) is created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return make_engine(url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n")[0])
    add_scale_arguments(parser)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--fresh", action="store_true", help="regenerate even when the data is already there")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    ensure(bench_engine(args.database_url), teams_from(args), scale_from(args), fresh=args.fresh)
    return 0


def add_scale_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=1000, help="customers per team")
    parser.add_argument("--touches", type=int, default=None, help="touches per team (default: 10 per customer)")
    parser.add_argument("--complaints", type=int, default=None, help="complaints per team (default: 1 per 20 customers)")
    parser.add_argument("--members", type=int, default=None, help="members per team (default: 1 per 500 customers, 5 to 200)")
    parser.add_argument("--team", action="append", default=None, help="team id (repeat for several; default T0BENCH01)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--due-share", type=float, default=0.2,
                        help="share of customers with a revisit due today or overdue (default 0.2)")  # fmt: skip
    parser.add_argument("--anchor", type=dt.date.fromisoformat, default=None, help="the day dates are spread around (default: today)")


def teams_from(args: argparse.Namespace) -> list[str]:
    return args.team or ["T0BENCH01"]


def scale_from(args: argparse.Namespace) -> Scale:
    c = args.customers
    return Scale(
        customers=c,
        touches=args.touches if args.touches is not None else 10 * c,
        complaints=args.complaints if args.complaints is not None else c // 20,
        members=args.members if args.members is not None else min(200, max(5, c // 500)),
        seed=args.seed,
        due_share=args.due_share,
        **({"anchor": args.anchor} if args.anchor else {}),
    )


if __name__ == "__main__":
    raise SystemExit(main())
