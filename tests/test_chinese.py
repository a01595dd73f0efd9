"""A Chinese-speaking team end to end: a `zh-CN` user through the fake Slack, every reply in
Chinese, Chinese sub-command words and dates, pinyin search."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from freezegun import freeze_time

from bot.handlers.commands import split_command
from tests.helpers import add_customer, customers_of
from tests.slackclient import USER, block_text

NOW = "2026-11-25T10:00:00+00:00"  # a Wednesday; 18:00 in Shanghai


@pytest.fixture(autouse=True)
def chinese_user(fake):
    fake.add_user(USER, locale="zh-CN", tz="Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "word", "args"),
    [
        ("查找 张伟", "find", "张伟"),
        ("查找张伟", "find", "张伟"),  # Chinese is written without spaces
        ("投诉列表 超时", "complaints", "超时"),
        ("投诉列表超时", "complaints", "超时"),  # the longest word wins over 投诉
        ("投诉 张伟", "complaint", "张伟"),
        ("回访\u3000张伟 明天", "revisit", "张伟 明天"),  # the ideographic space
        ("显示 #3", "show", "#3"),
        ("Find Acme", "find", "Acme"),
        ("", "", ""),
    ],
)
def test_chinese_sub_command_words(text, word, args):
    assert split_command(text) == (word, args)


def test_help_is_chinese_and_lists_the_chinese_words(slack):
    shown = slack.command("帮助").shown
    for word in ("新建", "查找", "查看", "编辑", "分配", "接触", "回访", "待办", "投诉", "投诉列表", "解决",
                 "设置", "审计", "导出", "删除数据", "合并", "帮助"):  # fmt: skip
        assert f"/crm {word}" in shown
    assert "我不认识" in slack.command("乱码").shown


@freeze_time(NOW)
def test_revisit_tomorrow_in_shanghai(slack, session):
    add_customer(session, "张伟")
    shown = slack.command("回访 张伟 明天").shown
    assert shown == "*张伟 (#1)* 的下次回访：2026年11月26日 周四。"
    assert customers_of(session)[0].next_revisit == dt.date(2026, 11, 26)
    slack.command("回访 张伟下周一")
    assert customers_of(session)[0].next_revisit == dt.date(2026, 11, 30)
    assert "不再安排回访" in slack.command("回访 张伟 关闭").shown


@freeze_time("2026-11-25T17:00:00+00:00")  # still the 25th in UTC, already the 26th in Shanghai
def test_tomorrow_is_read_in_the_callers_time_zone(slack, session):
    add_customer(session, "张伟")
    slack.command("回访 张伟 明天")
    assert customers_of(session)[0].next_revisit == dt.date(2026, 11, 27)


# --- pinyin search -----------------------------------------------------------------------


@pytest.fixture
def chinese_customers(session):
    add_customer(session, "张伟", company="上海宏达贸易有限公司")
    add_customer(session, "曾小贤", company="Acme 中国")
    add_customer(session, "Zhang Industries")
    add_customer(session, "王芳", contact_name="李娜")


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("张伟", ["张伟"]),
        ("zhangwei", ["张伟"]),
        ("zhang wei", ["张伟"]),
        ("ZW", ["张伟"]),
        ("wei", ["张伟"]),
        ("zhang", ["张伟", "Zhang Industries"]),  # both begin so; the whole-word match is not lost
        ("hongda", ["张伟"]),  # a later part of the company name
        ("shhd", ["张伟"]),
        ("zengxiaoxian", ["曾小贤"]),  # the surname reading of 曾
        ("cengxiaoxian", ["曾小贤"]),
        ("zxx", ["曾小贤"]),
        ("acme", ["曾小贤"]),
        ("acme 中国", ["曾小贤"]),
        ("acmezhongguo", ["曾小贤"]),
        ("zhongguo", ["曾小贤"]),
        ("lina", ["王芳"]),  # the contact person
        ("wf", ["王芳"]),
        ("ei", []),  # letters inside a syllable are no match
    ],
)
def test_find_by_characters_pinyin_and_initials(session, chinese_customers, query, names):
    from bot.services.customers import search_customers

    found, _ = search_customers(session=session, team_id="T0000001", text=query)
    assert sorted(c.name for c in found) == sorted(names)


def test_find_by_pinyin_through_slack(slack, chinese_customers):
    reply = slack.command("查找 zw")
    assert "张伟 (#1)" in reply.shown and "曾小贤" not in reply.shown
    assert reply.shown.startswith("与“zw”匹配的客户")


def test_show_by_pinyin(slack, chinese_customers):
    assert "上海宏达贸易有限公司" in slack.command("查看 zhangwei").shown


def test_type_ahead_finds_by_initials(slack, chinese_customers):
    reply = slack.suggest("customer_picker", "zxx")
    assert [o["text"]["text"] for o in reply.json["options"]] == ["曾小贤 (#2)"]


def test_renaming_updates_the_pinyin_key(session, chinese_customers):
    from bot.services.customers import CustomerInput, search_customers, update_customer

    zhang = customers_of(session)[0]
    update_customer(session=session, team_id="T0000001", actor_id=USER, customer_id=zhang.id,
                    data=CustomerInput(name="刘洋"), surface="test")  # fmt: skip
    session.commit()
    assert search_customers(session=session, team_id="T0000001", text="zw") == ([], False)
    assert [c.name for c in search_customers(session=session, team_id="T0000001", text="liuyang")[0]] == ["刘洋"]
