"""The App Home tab.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from bot.i18n import t
from bot.services.followups import DueFollowUps
from bot.services.home import Home
from bot.services.items import ComplaintLine
from bot.services.touches import DueRevisits
from bot.views.channels import waiting_blocks
from bot.views.ids import CUSTOMER_NEW, TOUCH_LOG
from bot.views.kit import actions, button, escape, format_when, plain, section
from bot.views.revisits import due_blocks


def home_view(
    locale: str | None,
    *,
    revisits: DueRevisits,
    complaints: Sequence[ComplaintLine],
    by_grade: dict[str, int],
    today: dt.date,
    failed_sends: Sequence[Any] = (),
    waiting: Sequence[Any] = (),
    follow_ups: DueFollowUps | None = None,
) -> dict[str, Any]:
    """`failed_sends` (admins only): messages Slack refused for good, newest first; `waiting`:
    my customers' linked channels with a message waiting for a reply (lines: no table here)."""
    counts = " · ".join(f"{grade}: {n}" for grade, n in sorted(by_grade.items())) or "0"
    body = [
        {"type": "header", "text": plain(t(locale, "home.title"))},
        actions(
            button(t(locale, "button.new_customer"), CUSTOMER_NEW, ""),
            button(t(locale, "button.log_touch"), TOUCH_LOG, "", style="primary"),
        ),
        section(t(locale, "home.customers", counts=counts)),
        {"type": "divider"},
        *due_blocks(locale, revisits=revisits, complaints=complaints, today=today, follow_ups=follow_ups, most=90),
        *waiting_blocks(locale, waiting),
    ]
    if failed_sends:
        lines = "\n".join(
            t(locale, "home.failed.line", when=format_when(locale, n.created_at, None), to=_recipient(n.channel),
              kind=n.kind, error=escape(n.last_error or ""))
            for n in failed_sends
        )  # fmt: skip
        body += [{"type": "divider"}, section(f"*{t(locale, 'home.failed.title')}*\n{lines}")]
    return {"type": "home", "blocks": body[:100]}


def _recipient(channel: str) -> str:
    return f"<@{channel}>" if channel[:1] in ("U", "W") else f"<#{channel}>"


def home_page(locale: str | None, home: Home) -> dict[str, Any]:
    """The App Home of `services.home.home`."""
    return home_view(locale, revisits=home.due.revisits, complaints=home.due.complaints, by_grade=home.by_grade,
                     today=home.due.today, failed_sends=home.failed_sends, waiting=home.waiting,
                     follow_ups=home.due.follow_ups)  # fmt: skip
