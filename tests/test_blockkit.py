"""Every view, modal and message builder, in English and in Chinese, passes slack_sdk's own
Block Kit models: titles ≤ 24 characters, button and option texts ≤ 75, block counts, …

A translation that is too long for Slack fails here, not in front of a user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.services.channels import ChannelRow, Linked
from bot.services.churn import ChurnFigures, ChurnReport
from bot.services.complaints import ComplaintCard
from bot.services.followups import DueFollowUps
from bot.services.health import AtRisk, Health, Reason, RiskCustomer, RiskReport
from bot.services.reports import Figures, Period, Report, period_of
from bot.services.sla import Clocks
from bot.services.touches import DueRevisits
from bot.services.workspaces import TeamSettings
from bot.storage.models import (
    AuditEvent,
    ChannelMessage,
    Complaint,
    Customer,
    FollowUp,
    StageChange,
    Touch,
)
from bot.views.channels import (
    channels_answer,
    emoji_offer,
    link_answer,
    response_reminder,
)
from bot.views.common import help_blocks
from bot.views.complaints import (
    complaint_card,
    complaint_list,
    complaint_message,
    complaint_modal,
    customer_complaints,
    escalation_message,
    resolve_modal,
)
from bot.views.customers import (
    customer_list,
    customer_modal,
    duplicate_modal,
    no_match,
    profile_blocks,
)
from bot.views.datacare import audit_blocks, erase_confirmation, merge_confirmation
from bot.views.followups import follow_up_reminder
from bot.views.home import home_view
from bot.views.kit import message_modal
from bot.views.lifecycle import churn_blocks, lost_modal
from bot.views.reports import report_blocks, risk_blocks
from bot.views.revisits import digest_message, due_blocks
from bot.views.settings import settings_modal
from bot.views.surveys import survey_message, survey_thanks
from bot.views.touches import revisit_modal, touch_modal
from tests.slackclient import block_text

LOCALES = ("en-US", "zh-CN")
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
LONG = "上海宏达国际贸易有限公司华东区域销售与售后服务中心" * 8  # a long, real-looking name


def _customer(number: int, name: str = "张伟", **fields: Any) -> Customer:
    values = {"company": LONG[:200], "contact_name": "李娜", "title": "采购经理", "email": "li.na@example.com",
              "phone": "+86 138 0013 8000", "owner_id": "U0000001", "grade": "A", "segment": "key",
              "needs": "需要季度报价", "preferences": "微信联系", "tags": "重要, 上海",
              "next_revisit": TODAY - dt.timedelta(days=number), "revisits_enabled": True}  # fmt: skip
    return Customer(id=number, team_id="T1", number=number, name=name, name_key=name, **{**values, **fields})


def _touch(number: int) -> Touch:
    return Touch(id=number, team_id="T1", customer_id=1, author_id="U0000001", kind="visit",
                 summary="拜访工厂，谈了明年的框架合同。" * 30, outcome="积极", next_step="发报价",
                 happened_at=NOW - dt.timedelta(days=number), permalink="https://example.slack.com/archives/C1/p1")  # fmt: skip


def _complaint(number: int, state: str) -> Complaint:
    return Complaint(id=number, team_id="T1", number=number, customer_id=1, title="发货延迟两周" * 10,
                     description="客户很不满意", severity="urgent", category="delivery", state=state,
                     author_id="U0000001", assignee_id="U0000002", opened_at=NOW - dt.timedelta(hours=30),
                     permalink="https://example.slack.com/archives/C1/p2", cycle=2,
                     resolution="补发并赔偿运费" if state in ("resolved", "closed") else None,
                     satisfaction=4 if state in ("resolved", "closed") else None)  # fmt: skip


def _card(state: str, number: int = 7) -> ComplaintCard:
    clocks = Clocks(first_response_due=NOW + dt.timedelta(hours=1), first_response_at=None,
                    resolution_due=NOW - dt.timedelta(hours=2), paused=state == "waiting",
                    resolved_at=NOW if state in ("resolved", "closed") else None,
                    next_deadline=NOW + dt.timedelta(hours=1), overdue=True, now=NOW)  # fmt: skip
    return ComplaintCard(complaint=_complaint(number, state), customer=_customer(1), clocks=clocks)


def _audit(number: int) -> AuditEvent:
    return AuditEvent(id=number, team_id="T1", actor_id="U0000001", action="update", entity="customer",
                      entity_id=1, changes={"name": ["a", "b"]}, surface="modal", at=NOW)  # fmt: skip


def _waiting(number: int) -> ChannelMessage:
    return ChannelMessage(id=number, team_id="T1", link_id=1, channel_id=f"C{number:07d}", ts="1764064800.000100",
                          thread_key="", speaker_id="U0GUEST1", sent_at=NOW - dt.timedelta(hours=number),
                          due_at=NOW, state="waiting",
                          permalink=f"https://example.slack.com/archives/C{number:07d}/p1764064800000100")  # fmt: skip


def _channel_rows(count: int, name: str = LONG[:150]) -> list[ChannelRow]:
    return [ChannelRow(f"C{n:07d}", _customer(n, name=f"{name}{n}"), _waiting(n) if n % 3 else None)
            for n in range(1, count + 1)]  # fmt: skip


def _report(owners: int) -> Report:
    """A report of `owners` owners with every figure set (more than a table holds: lines)."""
    period = Period("week", TODAY - dt.timedelta(days=2), TODAY + dt.timedelta(days=5), None)
    previous = Period("week", TODAY - dt.timedelta(days=9), TODAY - dt.timedelta(days=2), None)

    def figures(n: int) -> Figures:
        return Figures(touches=n * 3, customers_touched=n, revisits_on_time=n, revisits_late=1, complaints_opened=n,
                       complaints_resolved=n, complaints_open=2, first_response_met=n, first_response_with_sla=n + 1,
                       satisfaction_avg=3.5, customers=n * 10, by_grade={"A": n}, by_segment={"key": n})  # fmt: skip

    keys = ["-", *(f"U{n:07d}" for n in range(owners - 1))]
    current = {"": figures(owners), **{k: figures(n + 1) for n, k in enumerate(keys)}}
    before = {"": figures(owners - 1), **{k: figures(n) for n, k in enumerate(keys)}}
    return Report(period, previous, None, current, before, [], {})


def _follow_up(number: int) -> FollowUp:
    return FollowUp(id=number, team_id="T1", customer=_customer(number, name=f"{LONG[:150]}{number}"),
                    touch=_touch(number), assignee_id="U0000001", due_on=TODAY - dt.timedelta(days=number))  # fmt: skip


def _risk(number: int) -> AtRisk:
    reasons = (Reason("health.no_touch", {"days": 90, "interval": 30}), Reason("health.follow_ups_overdue", {"count": 2}))
    return AtRisk(RiskCustomer(number, number, f"{LONG[:150]}{number}", "U0000001", 10**12 + number, "at_risk"),
                  Health(score=number, reasons=reasons))  # fmt: skip


def _churn(kind: str) -> ChurnReport:
    periods = [period_of(kind, TODAY, "Asia/Shanghai").shifted(-n) for n in range(7, -1, -1)]
    owners = {f"U{n:08d}": (n, n * 10**9) for n in range(200)}
    reasons = {r: (n, 10**14) for n, r in enumerate(("price", "service", "quality", "competitor", "other"))}
    figures = [ChurnFigures(p, 10**6, 999, 10**15, 12, 3, reasons, owners) for p in periods]
    return ChurnReport(kind=kind, periods=figures, currency="CNY", own=True)


STATES = ("open", "acknowledged", "waiting", "in_progress", "resolved", "closed")
FOLLOW_UPS = [_follow_up(n) for n in range(1, 13)]
CUSTOMERS = [_customer(n, name=f"{LONG[:150]}{n}") for n in range(1, 13)]

# name -> builder(locale) returning a view (dict with "type") or a list of message blocks
BUILDERS: dict[str, Callable[[str], Any]] = {
    "help": lambda loc: help_blocks(loc, "nonsense")[1],
    "customer_modal.new": lambda loc: customer_modal(loc, name="张伟", owner_id="U0000001"),
    "customer_modal.edit": lambda loc: customer_modal(loc, customer=_customer(1)),
    "duplicate_modal": lambda loc: duplicate_modal(loc, CUSTOMERS[:5], "{}"),
    "message_modal": lambda loc: message_modal(loc, "文字"),
    "profile_blocks": lambda loc: profile_blocks(
        loc, _customer(1, name=LONG[:200]), touches=[_touch(n) for n in range(5)], more_touches=True,
        complaints=customer_complaints(loc, [_card("open"), _card("waiting", 8)]), tz="Asia/Shanghai"),
    "profile_blocks.lost": lambda loc: profile_blocks(
        loc, _customer(1, name=LONG[:200], stage="lost", stage_since=NOW, value=10**15), tz="Asia/Shanghai",
        loss=StageChange(reason="moved_or_closed", note="搬走了")),
    "customer_modal.lost": lambda loc: customer_modal(loc, customer=_customer(1, stage="lost", value=1200000)),
    "lost_modal": lambda loc: lost_modal(loc, _customer(1, name=LONG[:200])),
    "customer_list": lambda loc: customer_list(loc, "header", CUSTOMERS[:10], more={"q": "x", "offset": 10}),
    "no_match": lambda loc: no_match(loc, "zw")[1],
    "touch_modal.new": lambda loc: touch_modal(loc, now=NOW, customer=_customer(1), next_revisit=TODAY),
    "touch_modal.edit": lambda loc: touch_modal(loc, now=NOW, touch=_touch(1), customer=_customer(1)),
    "revisit_modal": lambda loc: revisit_modal(loc, _customer(1)),
    "due_blocks": lambda loc: due_blocks(
        loc, revisits=DueRevisits(CUSTOMERS[:10], [_customer(9, next_revisit=TODAY + dt.timedelta(days=3))], 4000, 1),
        complaints=[_complaint(n, "open") for n in range(1, 4)], today=TODAY),
    "home_view": lambda loc: home_view(
        loc, revisits=DueRevisits(CUSTOMERS[:6], CUSTOMERS[6:], 6, len(CUSTOMERS[6:])), complaints=[_complaint(1, "open")],
        by_grade={"A": 3, "B": 10}, today=TODAY),
    "due_blocks.follow_ups": lambda loc: due_blocks(
        loc, revisits=DueRevisits(CUSTOMERS[:10], CUSTOMERS[:10], 4000, 300), follow_ups=DueFollowUps(FOLLOW_UPS[:5], 30, 9),
        complaints=[_complaint(n, "open") for n in range(1, 4)], today=TODAY),
    "home_view.follow_ups": lambda loc: home_view(
        loc, revisits=DueRevisits(CUSTOMERS[:10], CUSTOMERS[:10], 40, 40), complaints=[_complaint(1, "open")],
        by_grade={"A": 3}, today=TODAY, follow_ups=DueFollowUps(FOLLOW_UPS[:5], 6, 0)),
    **{f"digest_message.{n}": (lambda n: lambda loc: digest_message(
        loc, [_customer(k, name=f"{LONG[:150]}{k}") for k in range(1, 25)], total=400, today=TODAY,
        digest_time="09:00", follow_ups=FOLLOW_UPS[:n], follow_ups_total=n * 3)[1])(n)
       for n in (0, 1, 2, 3, 10)},
    "digest_message.follow_ups_only": lambda loc: digest_message(
        loc, [], total=0, today=TODAY, digest_time="09:00", follow_ups=FOLLOW_UPS[:10], follow_ups_total=12)[1],
    "follow_up_reminder": lambda loc: follow_up_reminder(loc, FOLLOW_UPS[0], today=TODAY)[1],
    "risk_blocks": lambda loc: risk_blocks(loc, RiskReport([_risk(n) for n in range(1, 16)], 10**15, 15,
                                                           [_risk(n) for n in range(1, 6)]), "CNY"),
    **{f"churn_blocks.{k}": (lambda k: lambda loc: churn_blocks(loc, _churn(k)))(k) for k in ("month", "quarter")},
    "erase_confirmation": lambda loc: erase_confirmation(loc, _customer(1, name=LONG[:200]))[1],
    "merge_confirmation": lambda loc: merge_confirmation(loc, _customer(1), _customer(2, name=LONG[:200]))[1],
    "audit_blocks": lambda loc: audit_blocks(
        loc, _customer(1), [_audit(n) for n in range(20)], more=True, offset=0, tz="Asia/Shanghai"),
    "settings_modal": lambda loc: settings_modal(
        loc, TeamSettings(language="zh", holidays_country="CN"), admins=["U0000001"], leads=[],
        hours_text="mon-fri 09:00-18:00", sla_text="normal 8h 3d"),
    "complaint_modal": lambda loc: complaint_modal(
        loc, customer=_customer(1), description="原消息", permalink="https://x", assignee_id="U0000002"),
    "resolve_modal": lambda loc: resolve_modal(loc, _complaint(7, "in_progress")),
    "complaint_list": lambda loc: complaint_list(
        loc, "overdue", [_card(s, n) for n, s in enumerate(STATES * 4, 1)], limit=20),
    **{f"complaint_card.{s}": (lambda s: lambda loc: complaint_card(loc, _card(s)))(s) for s in STATES},
    **{f"complaint_message.{k}": (lambda k: lambda loc: complaint_message(loc, _card("open"), k))(k)
       for k in ("assignee", "author", "channel", "update")},
    **{f"escalation.{step}": (lambda step: lambda loc: escalation_message(loc, _card("open"), step))(step)
       for step in ("warning.first_response", "warning.resolution", "level1", "level2", "level3")},
    # linked channels, the complaint emoji, tables
    "complaint_list.lines": lambda loc: complaint_list(
        loc, "overdue", [_card(s, n) for n, s in enumerate(STATES * 4, 1)], limit=20, as_table=False),
    "complaint_list.long_titles": lambda loc: complaint_list(
        loc, "open", [_card("open", n) for n in range(1, 26)], limit=25),
    "channels_answer": lambda loc: channels_answer(loc, _channel_rows(50, name="上海宏达国际贸易"), 120,
                                                   tz="Asia/Shanghai")[1],
    "channels_answer.long_names": lambda loc: channels_answer(loc, _channel_rows(50), 120, tz="Asia/Shanghai")[1],
    "channels_answer.lines": lambda loc: channels_answer(loc, _channel_rows(50), 120, tz="Asia/Shanghai",
                                                         as_table=False)[1],
    "channels_answer.none": lambda loc: channels_answer(loc, [], 0, tz=None)[1],
    **{f"link_answer.{p}": (lambda p: lambda loc: link_answer(
        loc, Linked(_customer(1, name=LONG[:200]), "C0000001", p), ["U0000002", "U0000003"])[1])(p)
       for p in ("joined", "member", "invite")},
    "response_reminder": lambda loc: response_reminder(loc, _waiting(1), _customer(1, name=LONG[:200]))[1],
    "emoji_offer": lambda loc: emoji_offer(loc, "C0000001", message="发货延迟两周" * 500,
                                           permalink="https://example.slack.com/archives/C0000001/p1764064800000100")[1],
    "home_view.waiting": lambda loc: home_view(
        loc, revisits=DueRevisits([], [], 0, 0), complaints=[], by_grade={}, today=TODAY, waiting=_channel_rows(10)),
    "profile_blocks.channels": lambda loc: profile_blocks(loc, _customer(1), channels=[f"C00000{n:02d}" for n in range(30)]),
    "survey_message": lambda loc: survey_message(loc, "A" * 64)["blocks"],
    "survey_thanks": lambda loc: survey_thanks(loc, "U0GUEST1")[1],
    "settings_modal.survey_off": lambda loc: settings_modal(
        loc, TeamSettings(customer_survey=False), admins=["U0000001"], leads=[], hours_text="", sla_text=""),
    "report_blocks": lambda loc: report_blocks(loc, _report(99)),
    "report_blocks.lines": lambda loc: report_blocks(loc, _report(120)),
}  # fmt: skip


def validate(rendered: Any) -> None:
    if isinstance(rendered, dict) and rendered.get("type") in ("modal", "home"):
        assert all(b["type"] != "table" for b in rendered["blocks"]), "Slack allows tables in messages only"
        View(**rendered).validate_json()
        return
    message_blocks = rendered["blocks"] if isinstance(rendered, dict) else rendered
    assert len(message_blocks) <= 50
    for block in message_blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()
        assert parsed.to_dict() == block, "a key slack_sdk does not know would be dropped"
    tables = [b for b in message_blocks if b["type"] == "table"]
    assert len(tables) <= 1, "one table per message"
    if tables:
        assert message_blocks[-1] is tables[0], "Slack shows a table at the message's end: it comes last"
        validate_table(tables[0])


def validate_table(block: dict[str, Any]) -> None:
    """The `table` block's documented limits, which slack_sdk's model does not check: at most
    100 rows (the header included) of at most 20 cells, every row as long as the header, a
    cell `raw_text` (not empty) or `rich_text` (a valid rich text block), at most 20 column
    settings, and at most 10,000 characters in all the cells together."""
    rows = block["rows"]
    assert 1 <= len(rows) <= 100
    assert len(block.get("column_settings") or []) <= 20
    width = len(rows[0])
    chars = 0
    for row in rows:
        assert len(row) == width <= 20
        for cell in row:
            if cell["type"] == "raw_text":
                assert isinstance(cell["text"], str) and cell["text"].strip(), cell
                chars += len(cell["text"])
            else:
                assert cell["type"] == "rich_text", cell
                rich = Block.parse(cell)
                rich.validate_json()
                assert rich.to_dict() == cell
                chars += len(block_text([cell]))
    assert chars <= 10_000


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_builder_passes_block_kit_validation(name: str, locale: str) -> None:
    validate(BUILDERS[name](locale))


def test_validation_catches_a_too_long_title() -> None:
    view = message_modal("zh-CN", "x")
    view["title"]["text"] = "客户" * 13
    with pytest.raises(Exception, match="title"):
        validate(view)


@pytest.mark.parametrize("locale", LOCALES)
def test_lists_are_tables_in_messages_where_they_fit_and_lines_where_not(locale: str) -> None:
    def has_table(blocks: list[dict[str, Any]]) -> bool:
        return any(b["type"] == "table" for b in blocks)

    assert has_table(BUILDERS["channels_answer"](locale))
    assert not has_table(BUILDERS["channels_answer.lines"](locale))
    assert not has_table(BUILDERS["channels_answer.long_names"](locale))  # 50 names of 150 characters: over 10,000
    assert has_table(BUILDERS["complaint_list"](locale)) and has_table(BUILDERS["complaint_list.long_titles"](locale))
    assert has_table(BUILDERS["report_blocks"](locale))  # 99 owners and the header: 100 rows
    assert not has_table(BUILDERS["report_blocks.lines"](locale))  # 120 owners: more than a table holds
    assert block_text(BUILDERS["report_blocks.lines"](locale)).count("<@U") == 119
    assert not has_table(BUILDERS["home_view.waiting"](locale)["blocks"])


def test_a_table_over_the_character_budget_is_not_made() -> None:
    from bot.views.kit import raw_cell, table

    row = [raw_cell("x" * 200) for _ in range(5)]
    assert table(["a"] * 5, [row] * 9) is not None  # 9,000 characters and the header
    assert table(["a"] * 5, [row] * 10) is None  # 10,005
    assert table(["a"] * 21, [[raw_cell("x")] * 21]) is None  # 21 cells a row
    assert table(["a"], [[raw_cell("x")]] * 100) is None  # 101 rows with the header


@pytest.mark.parametrize("builder", ["complaint_list.long_titles", "report_blocks", "channels_answer"])
def test_the_limits_walk_leaves_a_table_as_it_was_made(builder: str) -> None:
    """`fit_blocks` passes a table's rows through (`table` made them within its own limits):
    what it sends is what `validate_table` accepts, cells, long titles and mentions alike."""
    from bot.views.kit import fit_blocks

    made = BUILDERS[builder]("zh-CN")
    fitted = fit_blocks(made)
    assert fitted == made and fitted[-1]["type"] == "table"
    validate_table(fitted[-1])


def test_the_emoji_offer_carries_as_much_of_a_long_message_as_a_button_holds() -> None:
    import json

    _, blocks = emoji_offer("zh-CN", "C0000001", message="“发货”\n" * 1000, permalink="https://x.example/p1")
    value = blocks[0]["accessory"]["value"]
    assert len(value) <= 2000
    carried = json.loads(value)
    assert carried["text"].startswith("“发货”\n“发货”") and carried["permalink"] == "https://x.example/p1"


def test_a_confirmation_dialog_keeps_its_button_labels_as_text_objects_cut_to_their_limit() -> None:
    """Slack refuses a dialog whose `confirm` or `deny` is not a text object (`invalid_blocks`):
    the limits walk once took the dialog's own `confirm` for another dialog and dropped its type."""
    from bot.views.kit import fit_blocks, mrkdwn, plain

    dialog = {"title": plain("Erase personal data"), "text": mrkdwn("Erase *Acme (#1)*?"),
              "confirm": plain("Erase " + "x" * 40), "deny": plain("Cancel"), "style": "danger"}  # fmt: skip
    button = {"type": "button", "action_id": "erase", "value": "1", "text": plain("Erase"), "confirm": dialog}
    fitted = fit_blocks([{"type": "actions", "elements": [button]}])[0]["elements"][0]["confirm"]
    assert fitted["confirm"]["type"] == fitted["deny"]["type"] == fitted["title"]["type"] == "plain_text"
    assert len(fitted["confirm"]["text"]) == 30 and fitted["confirm"]["text"].endswith("…")
    assert "type" not in fitted and fitted["style"] == "danger"
