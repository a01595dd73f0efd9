"""Every CSV file touchbase writes goes through here, so each is safe to open in a spreadsheet.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula, and some read a
leading tab or carriage return the same way; a customer named `=HYPERLINK(…)` would then be a
link (or a command) in the admin's spreadsheet. Such a text cell is written with a leading
`'`, which spreadsheets read as "this is text" (OWASP, CSV Injection). Every text cell is
checked, whatever column it is in: a phone `+86 138…` comes out as `'+86 138…`.

Numbers held as numbers (int, float, Decimal) are written as they are: `-2` is then the
number minus two, which a spreadsheet can add up, and such a cell can only ever hold digits,
never a formula. Text that looks like a number (`-2` typed into a field) is still text and is
neutralised like any other.

Files are UTF-8 with a BOM, so spreadsheets read them as UTF-8.
"""

from __future__ import annotations

import csv
import decimal
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """What the file holds for `value`: numbers as they are, None as empty, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class Writer:
    """`csv.writer` whose every cell goes through `cell`."""

    def __init__(self, fh: TextIO) -> None:
        self._writer = csv.writer(fh)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def to_bytes(rows: Iterable[Iterable[object]]) -> bytes:
    """A whole CSV file in memory, for an upload."""
    out = io.StringIO()
    Writer(out).writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


@contextmanager
def open_file(path: Path) -> Iterator[Writer]:
    """A CSV file on disk, written row by row."""
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        yield Writer(fh)
