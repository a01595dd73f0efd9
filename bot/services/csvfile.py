"""Every CSV file touchbase writes, written one way: UTF-8 with a BOM (spreadsheets then read it
as UTF-8)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any


def csv_bytes(rows: Iterable[Iterable[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()
