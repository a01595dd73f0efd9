"""Log lines: plain text or JSON (`LOG_FORMAT`), each with the id of the request it belongs to.

`configure(fmt)` sets up the root logger once, at the entry point. Every line carries
`request_id`: set by the app when a request arrives (`REQUEST_ID`), copied into the work done
after the answer (bot.later), "-" outside a request. The app writes one line per request
(`bot.app`): its kind, workspace, outcome and duration, and nothing a person typed; with
`LOG_FORMAT=json` these fields are keys of the line's object, so a log pipeline can count
and filter without parsing text.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from contextvars import ContextVar
from typing import IO, Any

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
FIELDS = "fields"  # `extra={FIELDS: {...}}`: values a JSON line carries as keys of its own
# bolt context key where the app's parts note how a request ended (bot.metrics.OUTCOMES):
# "refused" (the registry answered with a refusal), "not_installed" (bot.oauth), "failed".
OUTCOME = "touchbase.outcome"


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


class _RequestId(logging.Filter):
    """Stamp each line with the request it was written for (read in the thread that logs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and the line's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or "-",
            **getattr(record, FIELDS, {}),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def handler(fmt: str = "text", stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing lines in `fmt` ("text" or "json") to `stream` (default stderr)."""
    out = logging.StreamHandler(stream)
    out.addFilter(_RequestId())
    out.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return out


def configure(fmt: str = "text", *, level: int = logging.INFO) -> None:
    """The process's logging: one handler on the root logger, in `fmt`."""
    root = logging.getLogger()
    root.handlers[:] = [handler(fmt)]
    root.setLevel(level)
