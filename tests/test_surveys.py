"""The customer survey end to end through the fake Slack: a complaint of a customer with a
linked channel is resolved, the survey is posted there (in the thread of the customer's
message it was logged from), a Slack Connect guest answers from their own workspace, and the
score is the customer's: attributed to the guest, in its health, in the report apart from
check-ins, a low one alerted to the leads. Refused: a forged or misplaced token, a member of
the team, a second answer. Off by a team setting; in the team's language.

Messages carry instants a little before the wall clock (the bot's requests run as of it), so
no test depends on today's date.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from sqlalchemy import select

from bot.services.surveys import message_of
from bot.services.workspaces import get_workspace
from bot.storage.models import AuditEvent, Complaint, Member, SatisfactionScore, Survey, Workspace
from tests.helpers import add_customer, database_rows, stored
from tests.slackclient import TEAM, USER, block_text, find_button
from tests.test_reports_slack import wait_for

OWNER, MEMBER, LEAD, ADMIN = USER, "U0000002", "U000LEAD", "U00000AD"
GUEST, OTHER_GUEST, THEIRS = "U0GUEST1", "U0GUEST2", "T0THEIRS"  # Slack Connect guests and their own workspace
CONTACT = "U0CONTACT"  # a person of this workspace named on the link: speaks for the customer
ACME, ELSEWHERE = "C0000ACME", "C0000RAND"
SENT = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)


def ts(n: int = 0) -> str:
    """A Slack message id two hours ago (`n` tells messages apart)."""
    return f"{int(SENT.timestamp()) + n}.000100"


def configure(session, **settings: object) -> None:
    workspace = get_workspace(session, TEAM)
    workspace.settings = {**(workspace.settings or {}), **settings}
    session.commit()


def role(session, user_id: str, name: str) -> None:
    get_workspace(session, TEAM)
    session.add(Member(team_id=TEAM, user_id=user_id, role=name))
    session.commit()


@pytest.fixture
def acme(slack, fake, session):
    """Acme Ltd, owned by OWNER, linked to the shared #acme, where a guest complained."""
    customer = add_customer(session, "Acme Ltd", owner_id=OWNER)
    fake.add_channel(ACME, is_member=True, is_ext_shared=True)
    assert "is now the channel of *Acme Ltd (#1)*" in slack.command(f"link Acme Ltd <#{ACME}|acme>", user=OWNER).shown
    slack.message("The parcels arrived broken", ts=ts(), channel=ACME, user=GUEST, user_team=THEIRS)
    return customer


def log_from_message(slack, fake, customer, *, channel: str = ACME, n: int = 0) -> None:
    """"Log as complaint" on the guest's message, for the customer: the complaint keeps its link."""
    message = {"ts": ts(n), "text": "The parcels arrived broken", "user": GUEST}
    slack.message_shortcut("log_complaint", message, user=OWNER, channel=channel)
    picked = {"text": {"type": "plain_text", "text": "Acme Ltd (#1)"}, "value": str(customer.id)}
    assert slack.submit(fake.last("views.open")["view"], {"Customer": picked, "Title": "Broken parcels"}).text == ""


def log_plain(slack, fake, name: str = "Acme Ltd", title: str = "Late invoice", *, label: str = "Title") -> None:
    slack.command(f"complaint {name}", user=OWNER)
    assert slack.submit(fake.last("views.open")["view"], {label: title}).text == ""


def resolve(slack, fake, number: int = 1, *, label: str = "Resolution"):
    slack.command(f"resolve #{number}", user=OWNER)
    return slack.submit(fake.last("views.open")["view"], {label: "Sent new parcels"}, user=OWNER)


IN_CHINESE = {"label": "标题"}, {"label": "处理结果"}  # the modals' Title and Resolution for a Chinese reader


def posted_in(fake, channel: str = ACME) -> list[dict]:
    return [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == channel]


def the_survey(fake, channel: str = ACME) -> dict:
    [survey] = posted_in(fake, channel)
    return survey


def click(slack, survey: dict, score: int, *, user: str = GUEST, team: str = THEIRS, channel: str = ACME, **kw):
    return slack.click(survey["blocks"], str(score), user=user, team=team, channel=channel,
                       message={"ts": "1.0", "text": survey["text"], "blocks": survey["blocks"]}, **kw)  # fmt: skip


def scores_of(session) -> list[tuple[int, str, str]]:
    session.expire_all()
    rows = [(s.score, s.recorded_by, s.source) for s in session.scalars(select(SatisfactionScore).order_by(SatisfactionScore.id))]
    session.commit()
    return rows


def surveys_of(session) -> list[Survey]:
    return stored(session, Survey)


# --- asking ---------------------------------------------------------------------------------------


def test_resolving_asks_the_customer_in_the_thread_of_its_message(slack, fake, session, acme):
    log_from_message(slack, fake, acme)
    [complaint] = session.scalars(select(Complaint)).all()
    assert message_of(complaint.permalink) == (ACME, ts())
    session.commit()
    assert posted_in(fake) == []  # logging asks nothing
    resolve(slack, fake)

    survey = the_survey(fake)
    assert survey["thread_ts"] == ts()  # under the guest's own message
    assert survey["text"] == "We have resolved the matter you raised with us. How satisfied are you with how we handled it?"
    assert "Broken parcels" not in json.dumps(survey)  # the team's own words about it stay the team's
    actions = next(b for b in survey["blocks"] if b["type"] == "actions")
    assert [b["text"]["text"] for b in actions["elements"]] == ["1", "2", "3", "4", "5"]
    tokens = {json.loads(b["value"])["token"] for b in actions["elements"]}
    assert len(tokens) == 1 and len(tokens.pop()) >= 32
    assert "1 = not at all satisfied · 5 = very satisfied" in block_text(survey["blocks"])
    [row] = surveys_of(session)
    assert (row.channel_id, row.thread_ts, row.cycle, row.answered_at) == (ACME, ts(), 1, None)
    assert row.message_ts is not None and len(row.token_hash) == 64
    assert json.loads(actions["elements"][0]["value"])["token"] not in row.token_hash  # only its hash is kept


@pytest.mark.parametrize(
    ("permalink", "found"),
    [
        ("https://acme.slack.com/archives/C0000ACME/p1764583200000100", ("C0000ACME", "1764583200.000100")),
        # a reply in a thread: the survey goes in that thread
        ("https://acme.slack.com/archives/C0000ACME/p1764583300000200?thread_ts=1764583200.000100&cid=C0000ACME",
         ("C0000ACME", "1764583200.000100")),
        ("https://acme.slack.com/archives/C0000ACME", None),
        ("https://acme.slack.com/archives/C0000ACME/p12", None),
        ("https://example.com/x/C0000ACME/p1764583200000100", None),
        ("not a link at all", None),
        (None, None),
    ],
)  # fmt: skip
def test_where_a_complaints_message_is(permalink, found):
    assert message_of(permalink) == found


def test_a_complaint_not_logged_from_the_channel_is_asked_about_in_a_new_message(slack, fake, session, acme):
    log_plain(slack, fake)
    fake.add_channel(ELSEWHERE, is_member=True)
    log_from_message(slack, fake, acme, channel=ELSEWHERE)  # a message in a channel that is not Acme's
    resolve(slack, fake, 1)
    resolve(slack, fake, 2)
    first, second = posted_in(fake)
    assert first.get("thread_ts") is None and second.get("thread_ts") is None
    assert posted_in(fake, ELSEWHERE) == []
    assert [(s.channel_id, s.thread_ts) for s in surveys_of(session)] == [(ACME, None), (ACME, None)]


def test_a_customer_without_a_linked_channel_is_not_asked(slack, fake, session):
    add_customer(session, "Beta Co", owner_id=OWNER)
    log_plain(slack, fake, "Beta Co")
    resolve(slack, fake)
    assert [c.args["channel"] for c in fake.calls_to("chat.postMessage") if c.args["channel"].startswith("C")] == []
    assert surveys_of(session) == []


def test_reopened_and_resolved_again_asks_again(slack, fake, session, acme):
    log_plain(slack, fake)
    resolve(slack, fake)
    complaint_id = session.scalar(select(Complaint.id))
    session.commit()  # end the read: on SQLite a transaction holds the write lock
    slack.action("complaint_reopen", str(complaint_id), user=OWNER)
    resolve(slack, fake)
    assert [s.cycle for s in surveys_of(session)] == [1, 2] and len(posted_in(fake)) == 2


def test_a_survey_slack_will_not_post_is_not_kept_and_the_resolver_is_told(slack, fake, session, acme):
    log_plain(slack, fake)
    fake.fail("chat.postMessage", error="not_in_channel", channel=ACME)
    resolve(slack, fake)
    assert surveys_of(session) == []
    [complaint] = session.scalars(select(Complaint)).all()
    assert complaint.state == "resolved"  # the resolution stands
    session.commit()
    told = [c.args["text"] for c in fake.calls_to("chat.postMessage") if c.args["channel"] == OWNER]
    assert any("not_in_channel" in text for text in told), told


# --- answering -------------------------------------------------------------------------------------


def test_a_guests_click_is_the_customers_satisfaction_given_by_the_guest(slack, fake, session, engine, acme):
    log_from_message(slack, fake, acme)
    resolve(slack, fake)
    survey = the_survey(fake)

    reply = click(slack, survey, 4)
    assert reply.status == 200
    thanked = fake.last("response_url")
    assert thanked["replace_original"] is True  # the buttons are gone: one answer per survey
    assert thanked["text"] == f"Thank you, <@{GUEST}>: your answer is recorded."
    assert scores_of(session) == [(4, GUEST, "survey")]
    [row] = surveys_of(session)
    assert (row.answered_by, row.score) == (GUEST, 4) and row.answered_at is not None
    [audited] = session.scalars(select(AuditEvent).where(AuditEvent.entity == "satisfaction")).all()
    assert audited.actor_id == GUEST and audited.changes["source"] == [None, "survey"]
    # Nothing of the guest's own workspace was read or made: no workspace, no member row of theirs.
    assert session.get(Workspace, THEIRS) is None
    assert session.scalars(select(Member).where(Member.user_id == GUEST)).all() == []
    session.commit()

    # A second click, by the same guest or another, changes nothing and says so to them alone.
    before = database_rows(engine)
    for who, score in ((GUEST, 1), (OTHER_GUEST, 5)):
        click(slack, survey, score, user=who)
        said = fake.last("response_url")
        assert said["text"] == "This survey has been answered already; the first answer stands. Thank you!"
        assert said.get("replace_original") is False
    assert database_rows(engine) == before
    assert scores_of(session) == [(4, GUEST, "survey")]


def test_a_low_score_alerts_the_leads_and_lowers_the_customers_health(slack, fake, session, acme):
    role(session, LEAD, "lead")
    log_plain(slack, fake)
    resolve(slack, fake)
    assert "satisfaction" not in slack.command("show Acme Ltd", user=OWNER).shown.split("Health")[1].split("\n")[0]

    click(slack, the_survey(fake), 1)
    [alert] = [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == LEAD]
    assert alert["text"] == (f"*Acme Ltd (#1)* answered 1/5 to the survey after complaint #1 was resolved "
                             f"(<@{GUEST}> in <#{ACME}>). It may need your attention.")  # fmt: skip
    health = slack.command("show Acme Ltd", user=OWNER).shown
    assert "satisfaction 1.0 in the last 90 days" in health  # a survey answer is a score health reads


def test_a_good_score_alerts_nobody(slack, fake, session, acme):
    role(session, LEAD, "lead")
    log_plain(slack, fake)
    resolve(slack, fake)
    click(slack, the_survey(fake), 5)
    assert [c for c in fake.calls_to("chat.postMessage") if c.args["channel"] == LEAD] == []


def test_the_report_tells_check_ins_from_the_customers_answers(slack, fake, session, acme):
    log_plain(slack, fake)
    resolve(slack, fake)
    click(slack, the_survey(fake), 2)
    slack.action("satisfaction_score", json.dumps({"customer_id": acme.id, "score": 5}), user=OWNER)  # a check-in
    assert scores_of(session) == [(2, GUEST, "survey"), (5, OWNER, "checkin")]
    fake.reset()

    slack.command("report", user=OWNER)
    wait_for(fake, "files.completeUploadExternal")
    report = next(c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == OWNER)
    assert ("*Satisfaction* at resolution – · answered 0 (=) · at check-ins 5 · check-ins 1 (▲1) · "
            "from customers' surveys 2 · survey answers 1 (▲1)") in block_text(report["blocks"])
    owners = [block_text([row[0]]) for row in report["blocks"][-1]["rows"][1:]]
    assert f"<@{GUEST}>" not in owners  # the guest who answered is not one of the team

    fake.reset()
    slack.command("report csv", user=OWNER)
    wait_for(fake, "files.completeUploadExternal")
    [upload] = fake.calls_to("upload")
    rows = list(csv.reader(io.StringIO(fake.uploads[upload.args["file_id"]].decode("utf-8-sig"))))
    figures = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert figures[("team", "checkins")] == "1" and figures[("team", "checkin_avg")] == "5.0"
    assert figures[("team", "surveys")] == "1" and figures[("team", "survey_avg")] == "2.0"
    assert figures[(OWNER, "surveys")] == "1"  # by the customer's owner
    assert not [r for r in rows if r[0] == GUEST]


def test_a_forged_or_misplaced_token_records_nothing(slack, fake, session, engine, acme):
    log_plain(slack, fake)
    resolve(slack, fake)
    survey = the_survey(fake)
    token = json.loads(find_button(survey["blocks"], "3")["value"])["token"]
    before = database_rows(engine)

    forged = {"token": "A" * len(token), "score": 5}
    slack.action("survey_score", json.dumps(forged), user=GUEST, team=THEIRS, channel=ACME)
    assert fake.last("response_url")["text"] == "This survey is closed."
    slack.action("survey_score", json.dumps({"token": token, "score": 5}), user=GUEST, team=THEIRS, channel=ELSEWHERE)
    assert fake.last("response_url")["text"] == "This survey is closed."  # a token works where it was posted only
    home = {"id": "VHOME", "type": "home", "callback_id": "", "private_metadata": "", "team_id": THEIRS}
    slack.action("survey_score", json.dumps({"token": token, "score": 5}), user=GUEST, team=THEIRS, view=home)
    for bad in ("not a token", json.dumps({"token": token, "score": 9}), json.dumps({"token": "x", "score": 1}), "{"):
        assert slack.action("survey_score", bad, user=GUEST, team=THEIRS, channel=ACME).status == 200
        assert fake.last("response_url")["text"] == "This survey is closed."
    assert database_rows(engine) == before  # nothing recorded, nothing made for the guest's workspace

    click(slack, survey, 3)  # the real one still works
    assert scores_of(session) == [(3, GUEST, "survey")]


def test_a_team_member_cannot_answer_for_the_customer_but_a_named_contact_can(slack, fake, session, engine, acme):
    log_plain(slack, fake)
    resolve(slack, fake)
    survey = the_survey(fake)
    before = database_rows(engine, lambda table, row: None if table == "member" else row)
    for member in (OWNER, MEMBER):
        click(slack, survey, 5, user=member, team=TEAM)
        assert fake.last("response_url")["text"] == ("This question is for the customer: answers from the team are not "
                                                     "recorded. What a customer tells you goes in a satisfaction check-in.")  # fmt: skip
    assert database_rows(engine, lambda table, row: None if table == "member" else row) == before

    slack.command(f"link Acme Ltd <#{ACME}|acme> <@{CONTACT}|wei>", user=OWNER)  # Wei speaks for Acme
    click(slack, survey, 4, user=CONTACT, team=TEAM)
    assert fake.last("response_url")["text"] == f"Thank you, <@{CONTACT}>: your answer is recorded."
    assert scores_of(session) == [(4, CONTACT, "survey")]


# --- the setting, the language, data care -----------------------------------------------------------


def test_an_admin_turns_the_survey_off_for_the_team(slack, fake, session, acme):
    fake.add_user(ADMIN, is_admin=True)
    slack.command("settings", user=ADMIN)
    view = fake.last("views.open")["view"]
    [field] = [b for b in view["blocks"] if b.get("block_id") == "customer_survey"]
    assert (field["label"]["text"], field["element"]["initial_option"]["text"]["text"]) == (
        "Customer survey (linked channels)", "On")  # the default
    assert slack.submit(view, {"Customer survey (linked channels)": "Off"}, user=ADMIN).text == ""
    assert get_workspace(session, TEAM).settings["customer_survey"] is False
    session.commit()

    log_plain(slack, fake)
    resolve(slack, fake)
    assert posted_in(fake) == [] and surveys_of(session) == []

    slack.command("settings", user=ADMIN)
    view = fake.last("views.open")["view"]
    [field] = [b for b in view["blocks"] if b.get("block_id") == "customer_survey"]
    assert field["element"]["initial_option"]["value"] == "off"
    slack.submit(view, {"Customer survey (linked channels)": "On"}, user=ADMIN)
    log_plain(slack, fake, title="Second one")
    resolve(slack, fake, 2)
    assert len(posted_in(fake)) == 1


def test_the_survey_speaks_the_teams_language(slack, fake, session, acme):
    configure(session, language="zh")
    role(session, LEAD, "lead")
    log_plain(slack, fake, **IN_CHINESE[0])
    resolve(slack, fake, **IN_CHINESE[1])
    survey = the_survey(fake)
    assert survey["text"] == "您向我们反映的问题已经处理完毕。您对我们的处理满意吗？"
    assert "1 = 非常不满意 · 5 = 非常满意" in block_text(survey["blocks"])
    click(slack, survey, 2)
    assert fake.last("response_url")["text"] == f"谢谢 <@{GUEST}>，您的回答已记录。"
    [alert] = [c.args for c in fake.calls_to("chat.postMessage") if c.args["channel"] == LEAD]
    assert alert["text"].startswith("*Acme Ltd (#1)* 在投诉 #1 解决后的问卷中打了 2/5 分")
    click(slack, survey, 5, user=OTHER_GUEST)
    assert fake.last("response_url")["text"] == "此问卷已有回答，以第一次回答为准。谢谢！"


def test_without_a_team_language_the_survey_speaks_the_owners(slack, fake, session):
    fake.add_user(OWNER, locale="zh-CN")
    customer = add_customer(session, "Acme Ltd", owner_id=OWNER)
    fake.add_channel(ACME, is_member=True)
    slack.command(f"link Acme Ltd <#{ACME}|acme>", user=OWNER)
    log_plain(slack, fake, **IN_CHINESE[0])
    resolve(slack, fake, **IN_CHINESE[1])
    assert the_survey(fake)["text"] == "您向我们反映的问题已经处理完毕。您对我们的处理满意吗？"
    assert [s.language for s in surveys_of(session)] == ["zh-CN"]
    assert customer.id == surveys_of(session)[0].customer_id


def test_export_holds_the_surveys_and_erase_closes_them(slack, fake, session, acme):
    fake.add_user(ADMIN, is_admin=True)
    log_plain(slack, fake)
    resolve(slack, fake)
    survey = the_survey(fake)
    slack.command("export Acme Ltd", user=ADMIN)
    [upload] = fake.calls_to("upload")
    exported = json.loads(fake.uploads[upload.args["file_id"]])
    [asked] = exported["surveys"]
    assert (asked["channel_id"], asked["answered_by"]) == (ACME, None) and "token_hash" not in asked
    [complaint] = exported["complaints"]  # as stored, without the list's order the database computes
    assert complaint["state"] == "resolved" and not {"list_due", "list_rank"} & set(complaint)

    ask = slack.command("erase Acme Ltd", user=ADMIN)
    slack.click(ask.blocks, "Erase", user=ADMIN)
    assert surveys_of(session) == []
    click(slack, survey, 5)
    assert fake.last("response_url")["text"] == "This survey is closed."
    assert scores_of(session) == []


def test_a_merged_customers_surveys_and_scores_go_to_the_customer_kept(slack, fake, session, acme):
    fake.add_user(ADMIN, is_admin=True)
    log_plain(slack, fake)
    resolve(slack, fake)
    survey = the_survey(fake)
    kept = add_customer(session, "Acme Group", owner_id=OWNER).id
    session.commit()  # end the read: on SQLite a transaction holds the write lock
    ask = slack.command("merge Acme Ltd Acme Group", user=ADMIN)
    slack.click(ask.blocks, "Merge", user=ADMIN)
    assert "Merged into Acme Group (#2)" in fake.last("response_url")["text"]
    assert [s.customer_id for s in surveys_of(session)] == [kept]
    click(slack, survey, 2)  # still open, now about the customer kept
    session.expire_all()
    assert [(s.customer_id, s.source) for s in session.scalars(select(SatisfactionScore))] == [(kept, "survey")]
    session.commit()
