"""A Chinese-speaking team end to end: a `zh-CN` user through the fake Slack, every reply in
Chinese, Chinese sub-command words and dates, pinyin search."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from freezegun import freeze_time

from bot.handlers.commands import split_command
from tests.helpers import add_customer, as_admin, customers_of
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
    assert "我不认识 `乱码`" in slack.command("乱码").shown


@freeze_time(NOW)
def test_revisit_tomorrow_in_shanghai(slack, session):
    add_customer(session, "张伟")
    shown = slack.command("回访 张伟 明天").shown
    assert shown == "*张伟 (#1)* 的下次回访：2026年11月26日 周四。"
    assert customers_of(session)[0].next_revisit == dt.date(2026, 11, 26)
    slack.command("回访 张伟下周一")
    assert customers_of(session)[0].next_revisit == dt.date(2026, 11, 30)
    assert "不再安排回访" in slack.command("回访 张伟 关闭").shown
    assert slack.command("回访 张伟 2026年11月1日").shown.startswith("2026年11月1日 周日 已经过去。")


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
    from bot.services.find import search_customers

    found, _ = search_customers(session=session, viewer=as_admin(team="T0000001"), text=query)
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
    from bot.services.customers import CustomerInput, update_customer
    from bot.services.find import search_customers

    zhang = customers_of(session)[0]
    update_customer(session=session, viewer=as_admin(USER, "T0000001"), customer_id=zhang.id,
                    data=CustomerInput(name="刘洋"), surface="test")  # fmt: skip
    session.commit()
    assert search_customers(session=session, viewer=as_admin(team="T0000001"), text="zw") == ([], False)
    assert [c.name for c in search_customers(session=session, viewer=as_admin(team="T0000001"), text="liuyang")[0]] == ["刘洋"]


# --- a whole day in Chinese: nothing English reaches the user --------------------------------

# Latin words a Chinese reader may still meet (DATA: what was typed or stored): names (the product, Slack, the shortcut names
# the manifest gives, which Slack shows untranslated), codes typed as they are, and units.
ALLOWED_LATIN = {"touchbase", "Slack", "Log", "as", "touch", "complaint", "SLA", "HH", "MM"}
DATA = ("zhangwei", "zw", "张伟", "上海宏达贸易有限公司", "Acme 中国", "拜访工厂 walked the plant", "发货延迟", "example.com")
_SLACK_TOKENS = re.compile(r"<(?:[@#!][^>]*|https?://[^|>]*\|([^>]*))>")  # mentions, dates; links keep their label
_CODE = re.compile(r"`[^`]*`")  # commands and their examples, typed as they are


def english_leaks(text: str) -> list[str]:
    """Latin words in what a Chinese reader sees, other than data, ids, commands and examples."""
    for value in DATA:
        text = text.replace(value, " ")
    text = _SLACK_TOKENS.sub(lambda m: m.group(1) or " ", text)
    text = _CODE.sub(" ", text)
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in ALLOWED_LATIN]


def everything_shown(fake, replies) -> str:
    """Every reply, modal, home tab and DM the bot produced: the words a person reads."""
    parts = [r.shown + "\n" + r.json.get("text", "") for r in replies if r.text]
    for call in fake.calls:
        if call.method in ("views.open", "views.update", "views.push", "views.publish"):
            parts.append(block_text([call.args["view"]]))
        elif call.method in ("chat.postMessage", "chat.postEphemeral", "chat.update", "response_url"):
            parts.append(str(call.args.get("text") or ""))
            parts.append(block_text(call.args.get("blocks") or []))
    return "\n".join(parts)


def test_english_leaks_finds_english_and_forgives_data_and_commands():
    assert english_leaks("Customer *张伟* saved") == ["Customer", "saved"]
    assert english_leaks("客户 *张伟*（#1）已保存。<@U01|li> `/crm find acme` <https://x.y|原消息>") == []


@freeze_time(NOW)
def test_a_chinese_users_day_without_an_english_word(slack, fake, session):
    replies = []

    def command(text):
        replies.append(reply := slack.command(text))
        return reply

    # new customer
    command("新建 张伟")
    modal = fake.last("views.open")["view"]
    assert modal["title"]["text"] == "新建客户"
    replies.append(slack.submit(modal, {"公司": "上海宏达贸易有限公司", "等级": "A", "客户分类": "重点客户"}))
    [zhang] = customers_of(session)
    assert (zhang.name, zhang.company, zhang.segment) == ("张伟", "上海宏达贸易有限公司", "key")

    # find by pinyin, show the card
    assert "张伟 (#1)" in command("查找 zw").shown
    card = command("查看 zhangwei").shown
    assert "重点客户" in card and "下次回访" in card and "记录接触" in card

    # log a touch
    command("接触 张伟")
    modal = fake.last("views.open")["view"]
    assert modal["title"]["text"] == "记录接触"
    replies.append(slack.submit(modal, {"方式": "拜访", "摘要": "拜访工厂 walked the plant", "下次回访": None}))
    card = command("查看 #1").shown
    assert "2026年11月25日 周三 18:00" in card  # the touch, in the reader's time zone
    assert "2026年12月2日 周三" in card  # grade A: a week later

    # revisit tomorrow, in Shanghai
    assert command("回访 张伟 明天").shown == "*张伟 (#1)* 的下次回访：2026年11月26日 周四。"
    due = command("待办").shown
    assert "未来 7 天" in due and "2026年11月26日 周四" in due

    # complaint
    command("投诉 张伟")
    modal = fake.last("views.open")["view"]
    assert modal["title"]["text"] == "登记投诉"
    replies.append(slack.submit(modal, {"标题": "发货延迟", "严重程度": "紧急"}))
    listed = command("投诉列表").shown
    assert "发货延迟" in listed and "紧急" in listed
    assert "发货延迟" in command("待办").shown

    # help, an unknown word, a usage message, the App Home
    command("帮助")
    command("乱码")
    command("回访")
    slack.event({"type": "app_home_opened", "user": USER, "tab": "home"})
    assert fake.last("views.publish")["view"]["type"] == "home"

    shown = everything_shown(fake, replies)
    assert "张伟" in shown and "投诉" in shown
    assert english_leaks(shown) == []


def test_an_unexpected_failure_apologises_in_chinese(slack, fake, monkeypatch):
    from bot.services import find

    def broken(**_kw):
        raise RuntimeError("boom")

    monkeypatch.setattr(find, "search_customers", broken)
    reply = slack.command("查找 张伟")
    assert reply.status == 200 and reply.json["response_type"] == "ephemeral"
    assert reply.json["text"] == "我们这边出了问题，没有保存任何内容。请重试。"


def test_audit_trail_in_chinese(slack, fake, session):
    fake.add_user(USER, locale="zh-CN", tz="Asia/Shanghai", is_admin=True)
    add_customer(session, "张伟", grade="C")
    slack.command("编辑 张伟")
    slack.submit(fake.last("views.open")["view"], {"等级": "A"})
    shown = slack.command("审计 张伟").shown
    assert "*修改* 客户 · 表单" in shown and "等级: C → A" in shown and "*新建* 客户" in shown
    assert english_leaks(shown) == ["test"]  # the surface the test helper records


def test_china_calendar_is_offered_in_chinese(slack, fake, session):
    fake.add_user(USER, locale="zh-CN", tz="Asia/Shanghai", is_admin=True)
    slack.command("设置")
    view = fake.last("views.open")["view"]
    [country] = [b for b in view["blocks"] if b["block_id"] == "holidays_country"]
    assert country["label"]["text"] == "节假日国家" and "调休" in country["hint"]["text"]
    assert slack.submit(view, {"节假日国家": "cn", "语言": "简体中文"}).text == ""
    from bot.services.workspaces import get_workspace

    settings = get_workspace(session, "T0000001").settings
    session.commit()
    assert (settings["holidays_country"], settings["language"]) == ("CN", "zh")
    # country and currency codes are typed as they are; English names itself in the language
    # choice; an emoji's name is typed as it is
    assert set(english_leaks(block_text([view]))) == {"CN", "US", "DE", "English", "CNY", "USD", "EUR", "rotating",
                                                      "light"}


def test_working_hours_and_sla_in_chinese(slack, fake, session):
    fake.add_user(USER, locale="zh-CN", tz="Asia/Shanghai", is_admin=True)
    slack.command("设置")
    view = fake.last("views.open")["view"]
    values = {"工作时间": "周一至周五 09:00-12:00 13:30-18:00\n周六 10:00-12:00", "SLA 目标": "紧急 1小时 8小时 24/7\n一般 4小时 2天"}
    assert slack.submit(view, values).text == ""
    from bot.services.workspaces import get_workspace

    settings = get_workspace(session, "T0000001").settings
    session.commit()
    assert settings["working_hours"]["fri"] == ["09:00-12:00", "13:30-18:00"]
    assert settings["working_hours"]["sat"] == ["10:00-12:00"] and "sun" not in settings["working_hours"]
    assert settings["sla"]["urgent"] == {"first_response": "1h", "resolution": "8h", "calendar_hours": True}
    assert settings["sla"]["normal"]["resolution"] == "2d"
    slack.command("设置")
    shown = {b["block_id"]: b["element"].get("initial_value") for b in fake.last("views.open")["view"]["blocks"]}
    assert shown["working_hours"] == "周一-周五 09:00-12:00 13:30-18:00\n周六 10:00-12:00"
    assert "紧急 1小时 8小时 24/7" in shown["sla"]


@freeze_time(NOW)
def test_a_complaint_from_acknowledge_to_resolve_in_chinese(slack, fake, session):
    add_customer(session, "张伟")
    slack.command("投诉 张伟")
    slack.submit(fake.last("views.open")["view"], {"标题": "发货延迟", "严重程度": "高", "类别": "交付"})
    [dm] = [c.args for c in fake.calls_to("chat.postMessage")][-1:]
    assert "投诉 *#1*" in dm["text"] and "指派给你" in dm["text"]
    before = len(fake.calls)
    slack.click(dm["blocks"], "受理")
    assert "已受理" in json.dumps([c.args for c in fake.calls[before:]], ensure_ascii=False)
    assert "发货延迟" in slack.command("投诉列表 我的").shown
    assert slack.command("投诉列表 超时").shown == "没有超时投诉。"
    slack.command("解决 #1")
    view = fake.last("views.open")["view"]
    assert view["title"]["text"] == "解决投诉 #1"
    assert slack.submit(view, {"处理结果": "补发并赔偿运费", "满意度": "5"}).text == ""
    assert slack.command("投诉列表").shown == "没有未结投诉。"
    shown = everything_shown(fake, [])
    assert english_leaks(shown.replace("补发并赔偿运费", "")) == []


def test_assign_in_chinese_tells_the_new_owner_in_their_language(slack, fake, session):
    fake.add_user("U0000009", locale="en-US")
    add_customer(session, "张伟")
    assert slack.command("分配 张伟 <@U0000009|li>").shown == "张伟 (#1) 的负责人已改为 <@U0000009>。"
    notice = fake.last("chat.postMessage")
    assert notice["text"] == f"<@{USER}> made you the owner of *张伟 (#1)*."
