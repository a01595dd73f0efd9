"""`/crm <sub-command> …`: reading the sub-command, and what several sub-commands share.

The sub-commands themselves are registered by the module of their part of the product
(`registry.command("show", show)` in handlers/customers.py, …); this module reads the word
(English or Chinese, with or without a space: `查找张伟`) and answers `help`. Replies to a
slash command go in the ack body, which Slack shows to the caller only.
"""

from __future__ import annotations

from bot.context import RequestContext
from bot.handlers.answers import Answer, Reply
from bot.handlers.registry import Answered, CommandInput, Registry
from bot.i18n import language, t
from bot.services.access import recordable
from bot.services.find import resolve_customer
from bot.storage.models import Customer
from bot.views.common import help_blocks
from bot.views.customers import candidates, no_match

# Chinese words for the sub-commands (the English ones keep working for everyone). The first
# word of each is the one Chinese messages show in their examples.
ALIASES: dict[str, str] = {
    "新建": "new", "新增": "new",
    "查找": "find", "搜索": "find",
    "查看": "show", "显示": "show",
    "编辑": "edit", "修改": "edit",
    "分配": "assign", "转交": "assign",
    "接触": "touch", "记录": "touch", "跟进": "touch",
    "回访": "revisit",
    "待办": "due",
    "投诉列表": "complaints",
    "投诉": "complaint",
    "解决": "resolve",
    "报表": "report", "报告": "report",
    "设置": "settings",
    "审计": "audit",
    "导出": "export",
    "删除数据": "erase", "擦除": "erase",
    "合并": "merge",
    "关联频道": "link", "关联": "link",
    "取消关联": "unlink",
    "频道": "channels",
    "流失": "lost",
    "挽回": "won", "赢回": "won",
    "帮助": "help",
}  # fmt: skip
_ZH_WORD = {english: chinese for chinese, english in reversed(list(ALIASES.items()))}


def command_word(locale: str | None, word: str) -> str:
    """The sub-command as the reader would type it, for examples in messages."""
    return _ZH_WORD.get(word, word) if language(locale) == "zh" else word


def splitter(known: set[str]):  # type: ignore[no-untyped-def]
    """`split(text) -> (word in English, word as typed, arguments)`; `查找张伟` works without a
    space as Chinese is written, the longest Chinese word first (`投诉列表` before `投诉`)."""

    def split(text: str) -> tuple[str, str, str]:
        text = text.replace("\u3000", " ").strip()  # the ideographic space of Chinese input methods
        word, _, args = text.partition(" ")
        if word.lower() in known or word in ALIASES:
            return ALIASES.get(word, word.lower()), word, args.strip()
        for alias in sorted(ALIASES, key=len, reverse=True):
            if text.startswith(alias):
                return ALIASES[alias], alias, text[len(alias) :].strip()
        return word.lower(), word, args.strip()

    return split


def split_command(text: str) -> tuple[str, str]:
    """(word in English, arguments) of a `/crm` text."""
    word, _, args = splitter(set(ALIASES.values()) | _known)(text)
    return word, args


def customer_named(
    rq: RequestContext, ref: str, *, action_id: str, value: str | None = None, to_record: bool = False
) -> Customer:
    """The customer `ref` names among those the caller sees; otherwise the answer is the
    candidates as buttons that do `action_id` (each with `value`, default the customer id),
    or "no match" with a New button (`Answered`). `to_record`: for a form that records something
    about it, so an erased customer is refused before the form opens (and by the service, as the
    door's `to_record`, when a form opened before the erase is sent)."""
    match = resolve_customer(session=rq.session, viewer=rq.viewer, ref=ref)
    if match.customer is not None:
        return recordable(match.customer) if to_record else match.customer
    if not match.candidates:
        text, blocks = no_match(rq.locale, ref)
    else:
        text, blocks = candidates(rq.locale, ref, match.candidates, action_id=action_id, value=value)
    raise Answered(Reply(text, blocks))


def help_(rq: RequestContext, cmd: CommandInput) -> Answer:
    known = cmd.word in _known
    text, blocks = help_blocks(rq.locale, None if known or not cmd.word else (cmd.typed or cmd.word))
    return Reply(text, blocks)


_known: set[str] = set()


def register(on: Registry) -> None:
    on.command("help", help_, reads_only=True)
    _known.update(on.subcommands)
    on.slash("/crm", splitter(_known))


def usage(rq: RequestContext, key: str, **params: object) -> Reply:
    return Reply(t(rq.locale, key, **params))
