"""What every part of the product shows: the help.
"""

from __future__ import annotations

from bot.i18n import t
from bot.views.kit import Block, escape, section


def help_blocks(locale: str | None, unknown: str | None = None) -> tuple[str, list[Block]]:
    """The help (`/crm help`, an empty or unknown sub-command): its text and blocks."""
    blocks = [section(t(locale, "help.title"))]
    if unknown:
        blocks.append(section(t(locale, "help.unknown", word=escape(unknown))))
    blocks.append(section(t(locale, "help.body")))
    blocks.append(section(t(locale, "help.channels")))
    return t(locale, "help.title"), blocks
