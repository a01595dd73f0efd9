"""How the schema is written, and what the tools read of it: the column types and index
helpers the models use (bot.storage.models), the columns an export writes and a bulk load
supplies, and what Alembic compares with the migrations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import Column, ColumnElement, DateTime, Index, Table, TypeDecorator
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware instant, stored in UTC; SQLite hands back naive values, so re-attach UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def only_on(dialect: str, index: Index) -> Index:
    """An index that exists on one database only (created by its migration there alone)."""
    index.info["only_on"] = dialect
    return index.ddl_if(dialect=dialect)


class PerDialect(ColumnElement[Any]):
    """SQL written out for each database, chosen when it is compiled (a generated column's
    expression, where the two differ in their functions and literals)."""

    inherit_cache = False

    def __init__(self, **sql: str) -> None:
        self.sql = sql


@compiles(PerDialect)
def _per_dialect(element: PerDialect, compiler: SQLCompiler, **_kw: Any) -> str:
    return element.sql[compiler.dialect.name]


# SQLite's full-text table over the search text (migration 0007) and the tables FTS5 keeps
# for it: made by the migration with triggers, not described by the models.
SEARCH_FTS = "customer_fts"


def stored_columns(table: Table) -> list[Column[Any]]:
    """A table's columns but those the database computes from the others (`Computed`): what
    an export writes and a bulk load supplies."""
    return [c for c in table.columns if c.computed is None]


def include_in_comparison(dialect: str) -> Callable[..., bool]:
    """Alembic's `include_object` for `dialect`: leave out the indexes of other databases and
    SQLite's full-text tables."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, _compare_to: Any) -> bool:
        if type_ == "table" and reflected and (name or "").startswith(SEARCH_FTS):
            return False
        return reflected or type_ != "index" or obj.info.get("only_on") in (None, dialect)

    return include
