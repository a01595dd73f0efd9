"""The one rule every CSV file follows (bot/services/csvfile.py); the files themselves are tested
end to end in test_datacare, test_datatools and test_reports_slack."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io

from bot.services import csvfile


def _read(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())  # a BOM, so spreadsheets read UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_text_a_spreadsheet_would_run_gets_a_leading_quote_and_numbers_stay_numbers():
    rows = [["=1+1", "+86 138 0013 8000", "-2", "@cmd", "\tx", "\rx", "plain", "a=b", "'=kept"],
            [-2, 1.5, decimal.Decimal("-3.25"), 0, None, True, dt.date(2026, 12, 1), "", "李娜"]]  # fmt: skip
    assert _read(csvfile.to_bytes(rows)) == [
        ["'=1+1", "'+86 138 0013 8000", "'-2", "'@cmd", "'\tx", "'\rx", "plain", "a=b", "'=kept"],
        # A number held as a number cannot carry a formula: -2 stays the number a sheet adds up.
        ["-2", "1.5", "-3.25", "0", "", "True", "2026-12-01", "", "李娜"],
    ]
