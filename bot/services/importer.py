"""Customers from a CSV file (`python -m bot import`), and every table out to CSV (`export`).

Import reads UTF-8 (with or without BOM) or GB18030, checks every row first, and writes
nothing from a file with a bad row unless told to skip them. Re-importing a file updates the
customers it names (matched on email, then on exact name) instead of adding them again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messages import t
from bot.services import csvfile
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

COLUMNS = {
    "name": "name", "company": "company", "contact": "contact_name", "title": "title", "email": "email",
    "phone": "phone", "address": "address", "owner": "owner_id", "grade": "grade", "segment": "segment",
    "tags": "tags", "needs": "needs", "preferences": "preferences", "next_revisit": "next_revisit",
}  # fmt: skip
FIELD_COLUMN = {v: k for k, v in COLUMNS.items()}
SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, header)."""


@dataclass
class Row:
    line: int
    data: CustomerInput
    next_revisit: dt.date | None


@dataclass
class ImportReport:
    rows: list[Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "line N: column: reason"
    warnings: list[str] = field(default_factory=list)  # possible duplicates, written anyway
    created: int = 0
    updated: int = 0


def decode(raw: bytes) -> str:
    """UTF-8 (BOM or not), else GB18030, the encoding Chinese spreadsheet software writes."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise ImportFileError("the file is neither UTF-8 nor GB18030") from exc


def read_rows(text: str, owner_of: Callable[[str], str | None]) -> ImportReport:
    """Check every row; `owner_of` turns an owner's email into a Slack id (None: unknown)."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown or "name" not in header:
        known = ", ".join(COLUMNS)
        raise ImportFileError(f"line 1: header: unknown columns {unknown} or no name column; use {known}")
    reader.fieldnames = header
    for record in reader:
        line = reader.line_num
        values = {COLUMNS[k]: (v or "").strip() for k, v in record.items() if k in COLUMNS}
        errors = _check_row(values, owner_of)
        if errors:
            report.errors += [f"line {line}: {column}: {reason}" for column, reason in errors]
            continue
        revisit = values.pop("next_revisit", "") or None
        try:
            report.rows.append(Row(line, CustomerInput.parse(values), dt.date.fromisoformat(revisit) if revisit else None))
        except FieldErrors as exc:
            report.errors += [f"line {line}: {FIELD_COLUMN[f]}: {t(None, key, **params)}"
                              for f, (key, params) in exc.errors.items()]  # fmt: skip
    _no_repeats(report)
    return report


def _check_row(values: dict[str, str], owner_of: Callable[[str], str | None]) -> list[tuple[str, str]]:
    errors = []
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


def _no_repeats(report: ImportReport) -> None:
    seen: dict[str, int] = {}
    for row in list(report.rows):
        key = name_key(row.data.name)
        if key in seen:
            report.errors.append(f"line {row.line}: name: the same name as line {seen[key]}")
            report.rows.remove(row)
        seen[key] = row.line


def apply(*, session: Session, team_id: str, report: ImportReport) -> None:
    """Write the good rows: update the customer with that email, else that name; else create."""
    get_workspace(session, team_id)
    for row in report.rows:
        same_email = with_email_or_phone(session=session, team_id=team_id, email=row.data.email, phone=None)
        existing = same_email[0] if same_email else None
        if existing is None:
            existing = session.scalar(
                select(Customer).where(Customer.team_id == team_id, Customer.name_key == name_key(row.data.name))
            )
        if existing is not None:
            data = row.data.model_copy(update={"owner_id": row.data.owner_id or existing.owner_id})
            customer = update_customer(session=session, team_id=team_id, actor_id="", customer_id=existing.id,
                                       data=data, surface="import")  # fmt: skip
            report.updated += 1
        else:
            for same in with_email_or_phone(session=session, team_id=team_id, email=None, phone=row.data.phone):
                report.warnings.append(f"line {row.line}: phone: the same phone as #{same.number} {same.name}")
            customer = create_customer(session=session, team_id=team_id, actor_id="", data=row.data, surface="import")
            customer.created_by = None
            report.created += 1
        if row.next_revisit:
            customer.next_revisit = row.next_revisit


def export_tables(*, session: Session, team_id: str, out: Path) -> list[Path]:
    """One CSV per table with the team's rows (csvfile: UTF-8 with BOM, safe to open in a spreadsheet)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in Base.metadata.sorted_tables:
        path = out / f"{table.name}.csv"
        with csvfile.open_file(path) as writer:
            writer.writerow(table.columns.keys())
            writer.writerows(_rows(session, table, team_id))
        written.append(path)
    return written


def _rows(session: Session, table: object, team_id: str) -> Iterator[tuple[object, ...]]:
    yield from session.execute(select(table).where(table.c.team_id == team_id))  # type: ignore[attr-defined]


__all__ = ["PROFILE_FIELDS", "ImportFileError", "ImportReport", "apply", "decode", "export_tables", "read_rows"]
