"""Customers from a CSV file (`python -m bot import`), and every table out to CSV (`export`).

Import reads UTF-8 (with or without BOM) or GB18030, checks every row first, and writes
nothing from a file with a bad row unless told to skip them. Re-importing a file updates the
customers it names (matched on email, then on exact name) instead of adding them again.

The file is streamed, so memory stays flat however large it is: one pass decides the
encoding (`open_csv`), `check` reads and checks every row (what `--dry-run` does), and `write`
reads it once more and writes the good rows one at a time within the caller's transaction, so
a bad row found only then (a name another customer has) can still undo the whole import.
Nothing is kept per row; the names already seen (a name twice is a bad row) are kept on disk.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Column, select
from sqlalchemy.orm import Session

from bot.i18n import t
from bot.services import csvfile
from bot.services.access import Viewer
from bot.services.customers import (
    PROFILE_FIELDS,
    CustomerInput,
    create_customer,
    name_key,
    update_customer,
    with_email_or_phone,
)
from bot.services.errors import FieldErrors
from bot.services.workspaces import get_workspace
from bot.storage.models import Base, Customer
from bot.storage.schema import stored_columns

COLUMNS = {
    "name": "name", "company": "company", "contact": "contact_name", "title": "title", "email": "email",
    "phone": "phone", "address": "address", "owner": "owner_id", "grade": "grade", "segment": "segment",
    "tags": "tags", "needs": "needs", "preferences": "preferences", "next_revisit": "next_revisit",
    "value": "value",
}  # fmt: skip
FIELD_COLUMN = {v: k for k, v in COLUMNS.items()}
SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
ENCODINGS = ("utf-8-sig", "gb18030")  # UTF-8 with or without BOM, else what Chinese spreadsheet software writes
CHUNK = 1 << 16  # bytes read at a time while deciding the encoding

OwnerOf = Callable[[str], str | None]  # an owner's email -> Slack id (None: unknown)
Say = Callable[[str], None]


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, header, not CSV)."""


class BadRowFound(Exception):
    """A row was found bad only while writing (its name is another customer's): write nothing."""


@dataclass
class Row:
    line: int
    data: CustomerInput | None  # None: a bad row, see `errors`
    next_revisit: dt.date | None = None
    errors: list[str] = field(default_factory=list)  # "line N: column: reason"


@dataclass
class ImportReport:
    good: int = 0
    bad: int = 0
    created: int = 0
    updated: int = 0


def encoding_of(path: Path) -> str:
    """The first of `ENCODINGS` the whole file decodes in, read a chunk at a time."""
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportFileError("the file is neither UTF-8 nor GB18030")


@contextlib.contextmanager
def open_csv(path: Path) -> Iterator[TextIO]:
    with path.open(encoding=encoding_of(path), newline="") as fh:
        yield fh


def read_rows(fh: TextIO, owner_of: OwnerOf) -> Iterator[Row]:
    """Every row of the file, checked; the header is checked at once (ImportFileError)."""
    reader = csv.reader(fh)
    header = _header(next(_records(reader), []))
    return _rows(reader, header, owner_of)


def _header(cells: list[str]) -> list[str]:
    header = [h.strip().lower() for h in cells]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown or "name" not in header:
        known = ", ".join(COLUMNS)
        raise ImportFileError(f"line 1: header: unknown columns {unknown} or no name column; use {known}")
    twice = [h for h in dict.fromkeys(header) if header.count(h) > 1]
    if twice:
        raise ImportFileError(f"line 1: header: the column {', '.join(twice)} appears more than once; keep one")
    return header


def _records(reader: Any) -> Iterator[list[str]]:
    """The reader's non-blank records; what the csv module cannot read stops the file."""
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise ImportFileError(f"line {reader.line_num}: not readable as CSV: {err}") from None
        if record:
            yield record


def _rows(reader: Any, header: list[str], owner_of: OwnerOf) -> Iterator[Row]:
    with contextlib.closing(_Names()) as names:
        for record in _records(reader):
            line = reader.line_num
            values = {COLUMNS[k]: v.strip() for k, v in zip(header, record, strict=False)}
            row = _row(line, values, owner_of)
            if row.data is not None:
                earlier = names.first_line(name_key(row.data.name), line)
                if earlier is not None:
                    row = Row(line, None, errors=[f"line {line}: name: the same name as line {earlier}"])
            yield row


def _row(line: int, values: dict[str, str], owner_of: OwnerOf) -> Row:
    errors = _check_row(values, owner_of)
    if errors:
        return Row(line, None, errors=[f"line {line}: {column}: {reason}" for column, reason in errors])
    revisit = values.pop("next_revisit", "") or None
    try:
        data = CustomerInput.parse(values)
    except FieldErrors as exc:
        return Row(line, None, errors=_field_errors(line, exc))
    return Row(line, data, dt.date.fromisoformat(revisit) if revisit else None)


def _field_errors(line: int, exc: FieldErrors) -> list[str]:
    return [f"line {line}: {FIELD_COLUMN[f]}: {t(None, key, **params)}" for f, (key, params) in exc.errors.items()]


def _check_row(values: dict[str, str], owner_of: OwnerOf) -> list[tuple[str, str]]:
    # PostgreSQL refuses a NUL in text: refused on every database, so a file imports the same everywhere.
    errors = [(FIELD_COLUMN[f], "a NUL character (byte 0) is not allowed") for f, v in values.items() if "\x00" in v]
    if errors:
        return errors
    if values.get("grade"):
        values["grade"] = values["grade"].upper()
    if values.get("segment"):
        values["segment"] = values["segment"].lower()
    owner = values.get("owner_id")
    if owner and not SLACK_ID.match(owner):
        found = owner_of(owner) if "@" in owner else None
        if found is None:
            errors.append(("owner", f"no Slack user with the email or id {owner}"))
        values["owner_id"] = found or ""
    if values.get("next_revisit"):
        try:
            dt.date.fromisoformat(values["next_revisit"])
        except ValueError:
            errors.append(("next_revisit", "not a date like 2026-12-01"))
    return errors


class _Names:
    """The names read so far and the line of each, in a private SQLite file that is deleted when
    closed: a set in memory would grow with the file."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("")  # "": a temporary file on disk, not memory
        self._db.execute("CREATE TABLE name (key TEXT PRIMARY KEY, line INTEGER NOT NULL)")

    def first_line(self, key: str, line: int) -> int | None:
        """The line that had this name before, or None (and this line has it now)."""
        found = self._db.execute("SELECT line FROM name WHERE key = ?", (key,)).fetchone()
        if found is not None:
            return int(found[0])
        self._db.execute("INSERT INTO name VALUES (?, ?)", (key, line))
        return None

    def close(self) -> None:
        self._db.close()


def check(*, path: Path, owner_of: OwnerOf, say: Say) -> ImportReport:
    """Read and check every row, saying each bad row's errors; write nothing."""
    report = ImportReport()
    with open_csv(path) as fh:
        for row in read_rows(fh, owner_of):
            if row.errors:
                report.bad += 1
                for error in row.errors:
                    say(error)
            else:
                report.good += 1
    return report


def write(*, session: Session, team_id: str, path: Path, owner_of: OwnerOf, say: Say, skip_bad_rows: bool) -> ImportReport:
    """Write the good rows of a file `check` has seen: update the customer with that email, else
    that name; else create. Bad rows are skipped (`check` said them). A row that turns out bad
    only now is said, and raises BadRowFound unless `skip_bad_rows`. Possible duplicates are said."""
    report = ImportReport()
    get_workspace(session, team_id)
    with open_csv(path) as fh:
        for row in read_rows(fh, owner_of):
            try:
                _write_row(session, team_id, row, report, say)
            except FieldErrors as exc:
                report.bad += 1
                for error in _field_errors(row.line, exc):
                    say(error)
                if not skip_bad_rows:
                    raise BadRowFound from None
            # Sent to the database before the next row is read: the session then holds no
            # row's objects (its identity map lets go of written ones), so memory stays flat.
            session.flush()
    return report


def _write_row(session: Session, team_id: str, row: Row, report: ImportReport, say: Say) -> None:
    if row.data is None:
        report.bad += 1
        return
    same_email = with_email_or_phone(session=session, viewer=Viewer.whole_team(team_id), email=row.data.email, phone=None)
    existing = same_email[0] if same_email else None
    if existing is None:
        existing = session.scalar(
            select(Customer).where(Customer.team_id == team_id, Customer.name_key == name_key(row.data.name))
        )
    if existing is not None:
        data = row.data.model_copy(update={"owner_id": row.data.owner_id or existing.owner_id})
        customer = update_customer(session=session, viewer=Viewer.whole_team(team_id), customer_id=existing.id,
                                   data=data, surface="import")  # fmt: skip
        report.updated += 1
    else:
        for same in with_email_or_phone(session=session, viewer=Viewer.whole_team(team_id), email=None, phone=row.data.phone):
            say(f"line {row.line}: phone: the same phone as #{same.number} {same.name} "
                "(possible duplicate; imported, see /crm merge)")  # fmt: skip
        customer = create_customer(session=session, viewer=Viewer.whole_team(team_id), data=row.data, surface="import")
        customer.created_by = None
        report.created += 1
    report.good += 1
    if row.next_revisit:
        customer.next_revisit = row.next_revisit


def export_tables(*, session: Session, team_id: str, out: Path) -> list[Path]:
    """One CSV per table with the team's rows (csvfile: UTF-8 with BOM, safe to open in a spreadsheet).
    Tables of no workspace (OAuth states) and of secrets (the installation's tokens) are left out."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in Base.metadata.sorted_tables:
        if "team_id" not in table.columns or table.info.get("secret"):
            continue
        path = out / f"{table.name}.csv"
        with csvfile.open_file(path) as writer:
            columns = stored_columns(table)
            writer.writerow([c.key for c in columns])
            writer.writerows(_table_rows(session, columns, team_id))
        written.append(path)
    return written


def _table_rows(session: Session, columns: list[Column[Any]], team_id: str) -> Iterator[tuple[object, ...]]:
    table = columns[0].table
    yield from session.execute(select(*columns).where(table.c.team_id == team_id))


__all__ = ["PROFILE_FIELDS", "BadRowFound", "ImportFileError", "ImportReport", "check", "export_tables", "read_rows", "write"]
