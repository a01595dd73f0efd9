"""The pages a person installing touchbase sees in the browser (many-workspace mode): the end
of Slack's OAuth flow, installed or not."""

from __future__ import annotations

from html import escape

from bot.i18n import language, t


def install_page(locale: str | None, text: str, *, again: str | None = None) -> str:
    """A small HTML page saying `text` (already in the reader's language); `again`: the path
    that starts the flow anew, offered as a link."""
    link = f'<p><a href="{escape(again, quote=True)}">{escape(t(locale, "install.again"))}</a></p>' if again else ""
    return (
        f'<!DOCTYPE html><html lang="{language(locale)}"><head><meta charset="utf-8">'
        f"<title>{escape(t(locale, 'install.title'))}</title></head>"
        f"<body><p>{escape(text)}</p>{link}</body></html>"
    )
