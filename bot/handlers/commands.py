"""`/crm <sub-command> …`: one router, one small function per sub-command.

Replies to a slash command go in the ack body, which Slack shows to the caller only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.app import RequestContext
from bot.handlers import common
from bot.i18n import language, t
from bot.services import customers
from bot.services.errors import UserError
from bot.storage.models import Customer
from bot.views import ids
from bot.views.common import help_blocks
from bot.views.customers import customer_line, customer_list, customer_modal, no_match
from bot.views.kit import button, customer_title, escape, section

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


@dataclass(frozen=True)
class Command:
    word: str
    args: str
    trigger_id: str
    user_id: str
    channel_id: str | None
    typed: str = ""  # the word as typed, e.g. 报表 for `report`


# What a candidate button says, by what it does.
CANDIDATE_LABELS = {
    ids.CUSTOMER_EDIT: "button.edit",
    ids.TOUCH_LOG: "button.log_touch",
    ids.REVISIT_SCHEDULE: "button.schedule_revisit",
    ids.COMPLAINT_NEW: "button.log_complaint",
}

Handler = Callable[[RequestContext, Command, Ack, WebClient], None]
SUBCOMMANDS: dict[str, Handler] = {}

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
    "帮助": "help",
}  # fmt: skip
_ZH_WORD = {english: chinese for chinese, english in reversed(list(ALIASES.items()))}


def command_word(locale: str | None, word: str) -> str:
    """The sub-command as the reader would type it, for examples in messages."""
    return _ZH_WORD.get(word, word) if language(locale) == "zh" else word


def split_command(text: str) -> tuple[str, str]:
    """`word args`, with the word in English; `查找张伟` works without a space as Chinese is
    written, the longest Chinese word first (`投诉列表` before `投诉`)."""
    text = text.replace("\u3000", " ").strip()  # the ideographic space of Chinese input methods
    word, _, args = text.partition(" ")
    if word.lower() in SUBCOMMANDS or word in ALIASES:
        return ALIASES.get(word, word.lower()), args.strip()
    for alias in sorted(ALIASES, key=len, reverse=True):
        if text.startswith(alias):
            return ALIASES[alias], text[len(alias):].strip()
    return word.lower(), args.strip()


def subcommand(*words: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for word in words:
            SUBCOMMANDS[word] = fn
        return fn

    return register


def reply(ack: Ack, blocks_: list[dict[str, Any]], text: str) -> None:
    ack(text=text, blocks=blocks_, response_type="ephemeral")


def reply_text(ack: Ack, text: str) -> None:
    reply(ack, [section(text)], text)


def resolve_or_reply(
    tb: RequestContext, ack: Ack, ref: str, *, action_id: str, value: Callable[[Customer], str] | None = None
) -> Customer | None:
    """The customer `ref` names; otherwise answer with the candidates or "no match" and None."""
    match = customers.resolve_customer(session=tb.session, team_id=tb.team_id, ref=ref, viewer=tb.viewer)
    if match.customer is not None:
        return match.customer
    locale = tb.locale
    if not match.candidates:
        reply(ack, no_match(locale, ref), t(locale, "customer.none", text=ref))
        return None
    label = CANDIDATE_LABELS.get(action_id, "button.show")
    body = [section(t(locale, "customer.ambiguous", text=escape(ref)))]
    for c in match.candidates:
        v = value(c) if value else str(c.id)
        body.append(section(customer_line(c), button(t(locale, label), action_id, v)))
    reply(ack, body, t(locale, "customer.ambiguous", text=ref))
    return None


@subcommand("help")
def help_(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    unknown = (cmd.typed or cmd.word) if cmd.word and cmd.word not in SUBCOMMANDS else None
    reply(ack, help_blocks(tb.locale, unknown), t(tb.locale, "help.title"))


@subcommand("new")
def new(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    ack()
    view = customer_modal(tb.locale, name=cmd.args or None, owner_id=cmd.user_id)
    client.views_open(trigger_id=cmd.trigger_id, view=view)


@subcommand("find")
def find(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    if not cmd.args:
        return reply_text(ack, t(tb.locale, "find.usage"))
    found, more = customers.search_customers(session=tb.session, team_id=tb.team_id, viewer=tb.viewer, text=cmd.args)
    if not found:
        return reply(ack, no_match(tb.locale, cmd.args), t(tb.locale, "find.none", text=cmd.args))
    header = t(tb.locale, "find.header", text=escape(cmd.args))
    next_page = {"q": cmd.args, "offset": len(found)} if more else None
    reply(ack, customer_list(tb.locale, header, found, more=next_page), header)


@subcommand("show")
def show(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    if not cmd.args:
        return reply_text(ack, t(tb.locale, "customer.usage", command=command_word(tb.locale, "show")))
    customer = resolve_or_reply(tb, ack, cmd.args, action_id=ids.CUSTOMER_SHOW)
    if customer is not None:
        reply(ack, common.card(tb, customer), customer_title(customer))


@subcommand("edit")
def edit(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    if not cmd.args:
        return reply_text(ack, t(tb.locale, "customer.usage", command=command_word(tb.locale, "edit")))
    customer = resolve_or_reply(tb, ack, cmd.args, action_id=ids.CUSTOMER_EDIT)
    if customer is not None:
        ack()
        client.views_open(trigger_id=cmd.trigger_id, view=customer_modal(tb.locale, customer=customer))


@subcommand("assign")
def assign(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    ref, _, last = cmd.args.rpartition(" ")
    mention = MENTION.match(last)
    if not ref.strip() or not mention:
        return reply_text(ack, t(tb.locale, "assign.usage"))
    owner_id = mention.group(1)
    customer = resolve_or_reply(
        tb, ack, ref, action_id=ids.ASSIGN_PICK,
        value=lambda c: json.dumps({"customer_id": c.id, "owner_id": owner_id}),
    )  # fmt: skip
    if customer is not None:
        reply_text(ack, common.assign_owner(tb, customer, owner_id, client))


def on_crm(ack: Ack, command: dict[str, Any], context: dict[str, Any], client: WebClient) -> None:
    tb: RequestContext = context["tb"]
    text = command.get("text") or ""
    word, args = split_command(text)
    cmd = Command(
        word=word,
        typed=text.strip()[: len(text.strip()) - len(args)].strip(),
        args=args,
        trigger_id=command.get("trigger_id", ""),
        user_id=command["user_id"],
        channel_id=command.get("channel_id"),
    )
    handler = SUBCOMMANDS.get(cmd.word, help_)
    try:
        handler(tb, cmd, ack, client)
    except UserError as err:
        tb.session.rollback()
        reply_text(ack, t(tb.locale, err.key, **err.params))


# Sub-commands that only read or open a modal: on SQLite they run without the write lock.
READ_ONLY = {"help", "find", "show", "edit", "new", "touch", "due", "complaint", "complaints", "resolve",
             "report", "audit", "settings"}  # fmt: skip


def reads_only(text: str) -> bool:
    word, _ = split_command(text)
    return word in READ_ONLY or word not in SUBCOMMANDS  # unknown words get the help


def register(app: Any) -> None:
    app.command("/crm")(on_crm)
