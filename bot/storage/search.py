"""The text `find` and the customer pickers search: one short column per customer.

`search_doc` holds, folded (case-folded, spaces collapsed), one line per field that may rank
as an exact or prefix match (name, e-mail and phone while they are stored in plain, company,
contact person), each line between newlines, then the tags after a tab, which match only as
"contains":

    "\nacme trading\nli@acme.cn\n+86 139 0000 0000\nacme\nzhang wei\n\tvip, east\n"

so that, for a folded query `q` (which holds no newline or tab), a contains match is
`doc LIKE '%q%'` and an exact or prefix match is a line equal to or beginning with `q`
(`search_lines`, below). One column replaces six `lower(column) LIKE '%q%'`, and an index on
(team_id, name_key, search_doc, search_key) lets SQLite answer from the index alone, walking
customers in name order. With ENCRYPTION_KEYS set the e-mail and phone stay out of it (they
are found by their keyed hashes, exactly): the column is plain text.

Chinese needs one more thing. Names sort Latin first, so the customers matching `深圳` sit
together at the end of that order, and a search for one or two characters would read most of
the index before it found them; no trigram index serves two characters either. So every Han
character of a customer's text is also a row of `search_gram` (team, character, customer):
a query with Han characters first asks that table for the customers holding all of them.

Ranking needs one more. An exact or prefix match is a line that equals or begins with the
query, and no trigram index can tell a line's beginning from a word's. So each line (before
the tags), the domains of a line that is an e-mail address (`li@wantong.example.cn` is found
by `wantong.example.cn` or `example.cn` as an exact match, and by `example` as a prefix one,
as a company's name would be: migration 0020) and each pinyin token of the customer is also a
row of `search_line` (team, line, name key, customer), and the exact and prefix matches are a
range of its primary key, read in name order. A common prefix is read in name order from the
lines of its first two characters (`ix_search_line_initials`), a one-character one from those
of its first (`ix_search_line_initial`; services.find). The search text is kept under
`DOC_BYTES`, so that PostgreSQL can hold it in an index entry beside the name; the name,
e-mail and phone come first, so only the end of a very long company, contact or tag list is
left out.
"""

from __future__ import annotations

import re

from bot.storage.crypto import is_token, keyring


def fold(text: str) -> str:
    """Case-folded with spaces collapsed: how names are compared and searched."""
    return " ".join(text.split()).casefold()


def search_doc(
    *, name: str, company: str | None, contact_name: str | None, email: str | None, phone: str | None,
    tags: str | None,
) -> str:  # fmt: skip
    personal = [email, phone] if keyring() is None else []
    # The short lines first: should a very long company or contact reach the cap, they lose out.
    lines = [fold(v) for v in (name, *personal, company, contact_name) if v and not is_token(v)]
    return capped("\n" + "".join(f"{line}\n" for line in lines if line) + "\t" + (fold(tags) if tags else "") + "\n")


DOC_BYTES = 1600  # the most a search text may take, in UTF-8; see the module's docstring


def capped(doc: str) -> str:
    """`doc` cut to `DOC_BYTES`, still ending in a newline."""
    data = doc.encode()
    return doc if len(data) <= DOC_BYTES else data[: DOC_BYTES - 1].decode(errors="ignore") + "\n"


_EMAIL = re.compile(r"[^@\s]+@([^@\s]+)")  # a line that is an e-mail address, and its domain


def search_lines(doc: str | None, key: str | None) -> set[str]:
    """The lines of a search text (before its tags), the domains of a line that is an e-mail
    address, and the tokens of a pinyin key: what an exact or prefix match is matched against."""
    lines = {line for line in (doc or "").split("\t", 1)[0].split("\n") + (key or "").split(" ") if line}
    return lines.union(*(domains(m[1]) for line in lines if "@" in line and (m := _EMAIL.fullmatch(line))))


def domains(domain: str) -> set[str]:
    """A domain and the domains above it but the top level: `wantong.example.cn` and `example.cn`
    (a company's mail often comes from a department's or a region's subdomain)."""
    labels = domain.split(".")
    return {domain} | {".".join(labels[i:]) for i in range(1, len(labels) - 1) if labels[i]}


def han(text: str) -> set[str]:
    """The distinct Han characters of `text` (CJK unified ideographs and extension A)."""
    return {ch for ch in text if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"}
