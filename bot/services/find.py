"""Finding customers: `/crm find`, the type-ahead of customer pickers, and the `<customer>`
argument of sub-commands (a name, a unique prefix, pinyin or `#N`). Every search sees only
what the viewer may see (services.access).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    Select,
    and_,
    bindparam,
    column,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.orm import Session

from bot.services import access
from bot.services.access import Viewer
from bot.services.items import CUSTOMER_ITEM, CustomerItem, rows
from bot.storage.crypto import lookup_hashes
from bot.storage.db import written
from bot.storage.models import INTEGER_MAX, Customer, SearchGram, SearchLine
from bot.storage.schema import SEARCH_FTS
from bot.storage.search import fold, han

SEARCH_LIMIT = 10
_PINYIN_QUERY = re.compile(r"[a-z]+(?: [a-z]+)*")  # letters only: may be pinyin


def name_key(name: str) -> str:
    """The form of a name that decides "the same name": case-folded, spaces collapsed."""
    return fold(name)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_customers(
    *, session: Session, viewer: Viewer, text: str, limit: int = SEARCH_LIMIT, offset: int = 0
) -> tuple[list[CustomerItem], bool]:
    """Customers matching `text` in name, company, contact, email, phone or tags, or by the
    pinyin of a Chinese name, company or contact (`zhangwei`, `zw`, `wei` find 张伟).

    Case-insensitive and partial; ranked exact > prefix > contains (tags: contains only),
    then by name. Returns one page and whether more follow.

    How (storage.search holds the text and the lines it reads): the exact and then the
    prefix matches come from `search_line` in name order; when they fill the page, no other
    match could show. Else they are all there, and the contains matches follow them in name
    order. A query of three characters or more is looked for among the first `WALK_FIRST`
    names: a common one fills the page there. When it does not and at most
    `SEARCH_CANDIDATES` customers match, the trigram index finds them all (on SQLite, a query
    with Han characters too). When more match, or the query is shorter (no trigram to look
    up) or has Han characters (on PostgreSQL, or when more match), the first
    contains matches in name order follow the lines', walking the names' covering index for
    Latin text, or among the customers holding the query's first two Han characters
    (`search_gram`). Every query stops as soon as it has enough.
    """
    team_id = viewer.team_id
    q = fold(text)
    if not q:
        return [], False
    want = offset + limit + 1
    search = _Search(session, team_id, viewer, q, hashed=_by_hash(session, team_id, viewer, text))
    ranked = search.lined(want)
    if len(ranked) < want:  # all the exact and prefix matches are in: contains matches follow, in name order
        seen = {row.id for row in ranked}
        need = want + len(seen)
        probed = len(q) >= 3 and not han(q)  # a trigram to look up
        # A common pattern fills the page among the first names: those are its first matches.
        rest = search.walk(need, among=WALK_FIRST) if probed else []
        if len(rest) < need:  # few matches: every one, by trigram; many, or no trigram: walked
            # Han text has trigrams in SQLite's full-text table too (section 47), not in pg_trgm.
            looked_up = len(q) >= 3 and (search.fts or not han(q))
            every = search.every(max(SEARCH_CANDIDATES, need)) if looked_up else None
            rest = every if every is not None else search.among_han(need) if han(q) else search.walk(need)
        ranked += [row for row in rest if row.id not in seen]
    ids = [row.id for row in ranked[offset : offset + limit]]
    by_id = {row.id: CustomerItem(*row) for row in rows(session, _lines(), {"ids": ids})} if ids else {}
    return [by_id[i] for i in ids if i in by_id], len(ranked) > offset + limit  # one erased meanwhile is left out


@cache
def _lines() -> Select[Any]:
    """The page's customers by id, as the list shows them: built once, the ids bound."""
    return select(*CUSTOMER_ITEM).where(Customer.id.in_(bindparam("ids", expanding=True)))


SEARCH_CANDIDATES = 500  # matches ranked in Python at most
SPREAD = 4  # trigrams a long pattern is first looked up by in SQLite's full-text table
WALK_FIRST = 1000  # names a contains match is first looked for among, in name order
_ONE, _TWO = literal_column("1"), literal_column("2")
# A line's first character and first two, as `ix_search_line_initial` (migration 0018) and
# `ix_search_line_initials` (0021) hold them: the database uses an index only for the same
# expression, constants written in.
_INITIAL, _INITIALS = func.substr(SearchLine.line, _ONE, _ONE), func.substr(SearchLine.line, _ONE, _TWO)
_FEW = 200  # lines of a prefix that are sorted rather than walked to in name order
_LAST = "\U0010ffff"  # sorts after every character: `text <= line < text + _LAST` means "line begins with text"


def _by_hash(session: Session, team_id: str, viewer: Viewer, text: str) -> frozenset[int]:
    """Customers whose e-mail or phone is `text` exactly, by keyed hash (works encrypted)."""
    same = [Customer.email_hash.in_(lookup_hashes("email", text))] if "@" in text else []
    if any(ch.isdigit() for ch in text):
        same.append(Customer.phone_hash.in_(lookup_hashes("phone", text)))
    if not same:
        return frozenset()
    query = select(Customer.id).where(Customer.team_id == team_id, or_(*same), viewer.customers())
    return frozenset(session.scalars(query))


def _phrase(text: str) -> str:
    """`text` inside a full-text query's double quotes."""
    return text.replace('"', '""')


def _pattern(part: str) -> BindParameter[str]:
    """`%part%` for LIKE, written into the statement (`storage.db.written`): a trigram index
    for a rare pattern, name order for a common one."""
    return written(f"%{_like_escape(part)}%")


class _Search:
    """One search's predicates (storage.search explains the text they read) and its ranking."""

    def __init__(self, session: Session, team_id: str, viewer: Viewer, q: str, *, hashed: frozenset[int]) -> None:
        self.session, self.team_id, self.q, self.hashed = session, team_id, q, hashed
        self.viewer = viewer
        # Pinyin is typed with or without spaces between syllables: `zhang wei`, `zhangwei`.
        self.spelled = q.replace(" ", "") if _PINYIN_QUERY.fullmatch(q) else None
        self.texts = [t for t in dict.fromkeys((q, self.spelled)) if t]  # what a line is compared with
        self.columns = select(Customer.id, Customer.name_key)
        self.in_doc = Customer.search_doc.like(_pattern(q), escape="\\")  # LIKE: faster than instr on SQLite
        self.contains = or_(
            self.in_doc,
            Customer.search_key.like(_pattern(f" {self.spelled}"), escape="\\") if self.spelled else false(),
            Customer.id.in_(hashed) if hashed else false(),
        )
        self.fts = session.get_bind().dialect.name == "sqlite"  # migration 0007

    def every(self, n: int) -> list[Any] | None:
        """Every match if there are at most `n`, in name order; None if there are more.

        Found without an order, so that PostgreSQL takes a rare pattern from its trigram
        index and stops a common one early (SQLite looks it up in its trigram full-text
        table), then put in name order by the database, as the walks put theirs: the same
        names in the same order whichever way a page was found."""
        query = self.columns.where(self.contains, self.viewer.customers())
        # A long pattern is first looked up by a few of its trigrams: every match holds them,
        # and the customers that do are found far sooner than the whole phrase's (section 47).
        # The pattern itself is matched below; when more than `n` hold them, the phrase decides.
        found_in_fts = self._fts(limit=n + 1, spread=True)
        if found_in_fts is None or len(found_in_fts) > n:
            found_in_fts = self._fts(limit=n + 1)
        if found_in_fts is not None and len(found_in_fts) > n and self.viewer.sees_all:
            return None  # the full-text table holds only this team's rows, and a phrase matches exactly
        if found_in_fts is not None and len(found_in_fts) <= n:  # by id alone: SQLite would walk the team
            query = query.where(Customer.id.in_([*found_in_fts, *self.hashed]))
        else:
            query = query.where(Customer.team_id == written(self.team_id))
        limited = query.limit(written(n + 1)).subquery()
        found = list(self.session.execute(select(limited).order_by(limited.c.name_key)))
        return found if len(found) <= n else None

    def _fts(self, *, limit: int, spread: bool = False) -> list[int] | None:
        """The first `limit` customers SQLite's full-text table finds, or None when it cannot
        (not SQLite, or a pinyin pattern under three characters). `spread`: those whose text
        holds `SPREAD` trigrams of the pattern, spread over it (the full-text table reads each
        trigram of a phrase, about 0.25 ms apiece at full scale), rather than the pattern
        itself; None when the pattern has no more trigrams than that."""
        if not self.fts or (self.spelled and len(self.spelled) < 2):
            return None
        q = self.q
        if spread and len(q) - 2 <= SPREAD:
            return None
        if spread:
            starts = sorted({round(i * (len(q) - 3) / (SPREAD - 1)) for i in range(SPREAD)})
            match = "(" + " AND ".join(f'search_doc : "{_phrase(q[i : i + 3])}"' for i in starts) + ")"
        else:
            match = f'search_doc : "{_phrase(q)}"'
        if self.spelled:
            match += f' OR search_key : " {self.spelled}"'
        fts = table(SEARCH_FTS, column("rowid"), column("team_id"))
        query = select(fts.c.rowid).where(literal_column(SEARCH_FTS).op("MATCH")(match), fts.c.team_id == self.team_id)
        return list(self.session.scalars(query.limit(written(limit))))

    def lined(self, limit: int) -> list[Any]:
        """The first `limit` exact matches, then prefix matches, each in name order: lines of
        the search text or pinyin tokens that equal or begin with the query, and e-mails and
        phones equal to it by hash.

        When few lines begin with the query, all of them are read at once from the primary
        key, unordered, and ranked here. When many do, the exact matches are read in name
        order, then the prefix matches from the lines that begin with the query's first two
        characters (its first, for a query of one), walked in name order
        (`ix_search_line_initials`, `ix_search_line_initial`): walking every name instead read
        most of the team's lines for a rare first letter or a pinyin one, whose Chinese names
        sort after the Latin ones (docs/PERFORMANCE.md, section 39), and one character's lines
        hold a domain that half the customers share (section 42)."""
        line, texts = SearchLine, self.texts
        query = select(line.customer_id.label("id"), line.name_key).where(line.team_id == written(self.team_id))
        if not self.viewer.sees_all:
            query = query.join(Customer, Customer.id == line.customer_id).where(self.viewer.customers())
        hashed = list(self.session.execute(select(Customer.id, Customer.name_key).where(Customer.id.in_(self.hashed)))
                      ) if self.hashed else []  # fmt: skip
        if (few := self._few(query)) is not None:  # exact: a line equal to a text; else prefix
            names = {row.id: row.name_key for row in [*few, *hashed]}
            exact = {row.id for row in few if row.line in texts} | {row.id for row in hashed}

            def by_name(i: int) -> tuple[str, int]:
                return names[i], i

            ranked = sorted(exact, key=by_name) + sorted(names.keys() - exact, key=by_name)
            return [_Named(i, names[i]) for i in ranked[:limit]]
        query = (query.group_by(line.name_key, line.customer_id).order_by(line.name_key, line.customer_id)
                 .limit(written(limit)))  # fmt: skip
        exact = list(self.session.execute(query.where(line.line.in_(texts))))
        if hashed:
            exact = sorted({*exact, *hashed}, key=lambda row: (row.name_key, row.id))[:limit]
        if len(exact) == limit:
            return exact
        # The prefix by the first two characters its texts share (by the first, if they do not
        # share two: `a bc` and `abc`), so that one range of an index is walked in name order;
        # not by the range too: PostgreSQL would count both as narrowing and, misjudging a common
        # prefix as rare, sort thousands of lines.
        k = 2 if min(map(len, texts)) >= 2 and len({t[:2] for t in texts}) == 1 else 1
        initial = _INITIALS if k == 2 else _INITIAL
        begins = or_(*(initial == written(t) if len(t) == k else
                       and_(initial == written(t[:k]), func.substr(line.line, _ONE, written(len(t))) == written(t))
                       for t in texts))  # fmt: skip
        seen = {row.id for row in exact}
        prefix = self.session.execute(query.where(begins).limit(written(limit + len(seen))))
        return (exact + [row for row in prefix if row.id not in seen])[:limit]

    def _few(self, query: Select[Any]) -> list[Any] | None:
        """Every line (as `query` reads them, with the line) that equals or begins with the
        query if there are at most `_FEW`, else None. One character begins too many."""
        if min(len(t) for t in self.texts) < 2:
            return None
        begins = or_(*(and_(SearchLine.line >= written(t), SearchLine.line < written(t + _LAST)) for t in self.texts))
        rows = list(self.session.execute(query.add_columns(SearchLine.line).where(begins).limit(written(_FEW + 1))))
        return rows if len(rows) <= _FEW else None

    def walk(self, limit: int, *, among: int | None = None) -> list[Any]:
        """The first `limit` customers whose search text contains the query, in name order,
        from the names' covering index alone (`ix_customer_search`, `ix_customer_name_search`):
        for a common pattern, the walk stops early. `among`: only among the first `among`
        names the viewer sees (a walk that costs the same for a rare pattern)."""
        seen = (Customer.team_id == written(self.team_id), self.viewer.customers())
        if among is None:
            query = select(Customer.id, Customer.name_key).where(*seen, self.in_doc).order_by(Customer.name_key)
        else:
            first = (select(Customer.id, Customer.name_key, Customer.search_doc).where(*seen)
                     .order_by(Customer.name_key).limit(written(among)).subquery())  # fmt: skip
            query = (select(first.c.id, first.c.name_key).where(first.c.search_doc.like(_pattern(self.q), escape="\\"))
                     .order_by(first.c.name_key))  # fmt: skip
        return list(self.session.execute(query.limit(written(limit))))

    def among_han(self, limit: int) -> list[Any]:
        """The first `limit` matches, in name order, among the customers whose search text
        holds the query's first two Han characters (found in `search_gram`, then looked up by
        id). Two narrow a name down enough (a city and a brand, a surname and a given name);
        more would read the long lists of words like 有限公司 for little gain."""
        chars = list(dict.fromkeys(ch for ch in self.q if han(ch)))[:2]
        # One IN per character (not GROUP BY … HAVING count = 2, whose row count PostgreSQL
        # misjudged into a nested loop of 24 million comparisons).
        holders = [
            Customer.id.in_(select(SearchGram.customer_id).where(SearchGram.team_id == written(self.team_id),
                                                                 SearchGram.gram == ch))
            for ch in chars
        ]  # fmt: skip
        query = select(Customer.id, Customer.name_key).where(*holders, self.contains,
                                                             self.viewer.customers())  # fmt: skip
        return list(self.session.execute(query.order_by(Customer.name_key).limit(written(limit))))


class _Named(NamedTuple):
    """A match as the line reads give it: enough to rank and to fetch."""

    id: int
    name_key: str


@dataclass(frozen=True)
class Match:
    """What a `<customer>` argument names: one customer, several candidates, or none."""

    customer: Customer | None = None
    candidates: tuple[Customer, ...] = ()


def resolve_customer(*, session: Session, viewer: Viewer, ref: str) -> Match:
    """`#N`, an exact name, or a unique prefix of a name, among the customers `viewer` sees."""
    team_id = viewer.team_id
    ref = ref.strip()
    number = re.fullmatch(r"#(\d+)", ref)
    base = select(Customer).where(Customer.team_id == written(team_id), viewer.customers())
    if number:
        if int(number.group(1)) > INTEGER_MAX:
            return Match()
        return _through(session, viewer, session.scalar(base.where(Customer.number == int(number.group(1)))))
    key = name_key(ref)
    if not key:
        return Match()
    exact = session.scalar(base.where(Customer.name_key == key))
    if exact is not None:
        return _through(session, viewer, exact)
    prefixed = session.scalars(
        base.where(Customer.name_key.like(written(_like_escape(key) + "%"), escape="\\"))
        .order_by(Customer.name_key)
        .limit(written(SEARCH_LIMIT))
    ).all()
    if not prefixed and _PINYIN_QUERY.fullmatch(key):
        # `/crm 查看 zhangwei` or `zw`: a Chinese name by its pinyin, whole tokens first.
        spelled = key.replace(" ", "")
        for pattern in (f"% {spelled} %", f"% {spelled}%"):
            prefixed = session.scalars(
                base.where(Customer.search_key.like(written(pattern)))
                .order_by(Customer.name_key)
                .limit(written(SEARCH_LIMIT))
            ).all()
            if prefixed:
                break
    if len(prefixed) == 1:
        return _through(session, viewer, prefixed[0])
    return Match(candidates=tuple(prefixed))


def _through(session: Session, viewer: Viewer, customer: Customer | None) -> Match:
    """A customer named and seen: the door knows it, read with the viewer's conditions."""
    if customer is not None:
        access.seen_through(session, viewer, customer)
    return Match(customer=customer)


