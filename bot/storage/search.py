"""The text `find` and the customer pickers search: one short column per customer.

`search_doc` holds, folded (case-folded, spaces collapsed), one line per field that may rank
as an exact or prefix match (name, company, contact person, and e-mail and phone while they
are stored in plain), each line between newlines, then the tags after a tab, which match
only as "contains":

    "\nacme trading\nacme\nzhang wei\nli@acme.cn\n+86 139 0000 0000\n\tvip, east\n"

so that, for a folded query `q` (which holds no newline or tab):

- contains:  `doc LIKE '%q%'`
- a prefix:  `doc LIKE '%\nq%'`
- exact:     `doc LIKE '%\nq\n%'`

one column replaces six `lower(column) LIKE '%q%'`, and an index on
(team_id, name_key, search_doc, search_key) lets SQLite answer from the index alone, walking
customers in name order. With ENCRYPTION_KEYS set the e-mail and phone stay out of it (they
are found by their keyed hashes, exactly): the column is plain text.

Chinese needs one more thing. Names sort Latin first, so the customers matching `深圳` sit
together at the end of that order, and a search for one or two characters would read most of
the index before it found them; no trigram index serves two characters either. So every Han
character of a customer's text is also a row of `search_gram` (team, character, customer):
a query with Han characters first asks that table for the customers holding all of them.
"""

from __future__ import annotations

from bot.storage.crypto import is_token, keyring


def fold(text: str) -> str:
    """Case-folded with spaces collapsed: how names are compared and searched."""
    return " ".join(text.split()).casefold()


def search_doc(
    *, name: str, company: str | None, contact_name: str | None, email: str | None, phone: str | None,
    tags: str | None,
) -> str:  # fmt: skip
    personal = [email, phone] if keyring() is None else []
    lines = [fold(v) for v in (name, company, contact_name, *personal) if v and not is_token(v)]
    return "\n" + "".join(f"{line}\n" for line in lines if line) + "\t" + (fold(tags) if tags else "") + "\n"


def han(text: str) -> set[str]:
    """The distinct Han characters of `text` (CJK unified ideographs and extension A)."""
    return {ch for ch in text if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"}
