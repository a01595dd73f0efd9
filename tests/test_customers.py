"""Customer profiles end to end: signed requests in, Slack calls out, rows in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.storage.models import AuditEvent, Customer
from tests.helpers import add_customer, as_admin, customers_of
from tests.slackclient import TEAM, USER, block_text

OTHER_USER = "U0000002"


# --- help -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "help", "frobnicate"])
def test_help_lists_every_subcommand_with_an_example(slack, text):
    reply = slack.command(text)
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    for example in ("/crm new Acme Ltd", "/crm find acme", "/crm show Acme Ltd", "/crm edit Acme Ltd",
                    "/crm assign Acme Ltd @li"):  # fmt: skip
        assert example in reply.shown
    if text == "frobnicate":
        assert "I don't know `frobnicate`" in reply.shown


# --- new ------------------------------------------------------------------------------


def test_new_opens_the_modal_with_name_and_caller_as_owner(slack, fake):
    assert slack.command("new Acme Ltd").status == 200
    view = fake.last("views.open")["view"]
    assert view["title"]["text"] == "New customer"
    inputs = {b["label"]["text"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == ["Name", "Company", "Contact person", "Title", "Email", "Phone", "Address", "Owner",
                            "Grade", "Segment", "Needs", "Preferences", "Tags", "Value", "Stage"]  # fmt: skip
    assert inputs["Name"]["optional"] is False
    assert inputs["Name"]["element"]["initial_value"] == "Acme Ltd"
    assert inputs["Owner"]["element"]["initial_user"] == USER


def test_new_customer_is_saved_and_the_caller_gets_the_card(slack, fake, session):
    slack.command("new")
    view = fake.last("views.open")["view"]
    reply = slack.submit(view, {
        "Name": "  Acme   Ltd ", "Company": "Acme Group", "Contact person": "Li Wei", "Title": "Buyer",
        "Email": "Li.Wei@Example.com", "Phone": "+86 138 0013 8000", "Address": "1 Nanjing Rd",
        "Owner": OTHER_USER, "Grade": "A", "Segment": "Key", "Needs": "faster delivery",
        "Preferences": "calls after 10", "Tags": "vip, shanghai，vip",
    })  # fmt: skip
    assert reply.status == 200 and reply.text == ""
    [customer] = customers_of(session)
    assert (customer.name, customer.number, customer.owner_id) == ("Acme Ltd", 1, OTHER_USER)
    assert (customer.email, customer.grade, customer.segment) == ("Li.Wei@example.com", "A", "key")
    assert customer.tags == "vip, shanghai"
    dm = fake.last("chat.postMessage")
    assert dm["channel"] == USER
    card = block_text(dm["blocks"])
    assert "Acme Ltd (#1)" in card and "Acme Group" in card and f"<@{OTHER_USER}>" in card
    audit = session.scalars(select(AuditEvent)).one()
    assert (audit.action, audit.entity, audit.actor_id, audit.surface) == ("create", "customer", USER, "modal")


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"Name": ""}, "name", "Enter the customer's name."),
        ({"Name": "   "}, "name", "Enter the customer's name."),
        ({"Name": "Acme", "Email": "li at example"}, "email", "This is not an email address"),
        ({"Name": "Acme", "Phone": "call me"}, "phone", "This is not a phone number"),
        ({"Name": "Acme", "Phone": "12"}, "phone", "This is not a phone number"),
    ],
)
def test_bad_input_comes_back_inline_and_nothing_is_saved(slack, fake, session, values, field, message):
    slack.command("new")
    reply = slack.submit(fake.last("views.open")["view"], values)
    assert reply.json["response_action"] == "errors"
    assert message in reply.json["errors"][field]
    assert customers_of(session) == []
    assert fake.calls_to("chat.postMessage") == []


def test_a_name_that_exists_is_refused_ignoring_case_and_spaces(slack, fake, session):
    add_customer(session, "Acme Ltd")
    slack.command("new")
    reply = slack.submit(fake.last("views.open")["view"], {"Name": " ACME  ltd "})
    assert reply.json == {"response_action": "errors", "errors": {"name": "A customer named “Acme Ltd” already exists (#1)."}}
    assert len(customers_of(session)) == 1


def test_numbers_are_never_reused(slack, fake, session):
    first = add_customer(session, "First")
    session.delete(first)
    session.commit()
    slack.command("new")
    slack.submit(fake.last("views.open")["view"], {"Name": "Second"})
    assert [c.number for c in customers_of(session)] == [2]


# --- find -----------------------------------------------------------------------------


def test_find_ranks_exact_then_prefix_then_contains(slack, session):
    add_customer(session, "Big Acme Trading")
    add_customer(session, "Acme Supplies")
    add_customer(session, "Acme")
    add_customer(session, "Unrelated")
    reply = slack.command("find ACME")
    names = [line.split(" (#")[0].strip("*") for line in reply.shown.splitlines() if " (#" in line]
    assert names == ["Acme", "Acme Supplies", "Big Acme Trading"]
    assert reply.shown.count("Show") == 3


def test_find_matches_company_contact_email_phone_and_tag(slack, session):
    add_customer(session, "One", company="Northwind Traders")
    add_customer(session, "Two", contact_name="Zhang Wei")
    add_customer(session, "Three", email="buyer@contoso.com")
    add_customer(session, "Four", phone="+1 555 0100")
    add_customer(session, "Five", tags="wholesale, emea")
    for text, name in [("northwind", "One"), ("zhang", "Two"), ("contoso", "Three"), ("555 01", "Four"),
                       ("emea", "Five")]:  # fmt: skip
        assert f"*{name} (#" in slack.command(f"find {text}").shown, text


def test_a_chinese_word_inside_a_name_finds_it_and_follows_edits(session):
    from bot.services.customers import CustomerInput, update_customer
    from bot.services.find import search_customers

    anta = add_customer(session, "深圳安泰科技有限公司", contact_name="李明")
    add_customer(session, "北京恒通贸易有限公司", tags="重点客户")
    add_customer(session, "Anta Sports", company="安泰体育")

    def find(text: str) -> list[str]:
        found, _ = search_customers(session=session, viewer=as_admin(team=TEAM), text=text)
        session.commit()
        return [c.name for c in found]

    assert find("安泰") == ["Anta Sports", "深圳安泰科技有限公司"]  # both contain it; by name
    assert find("安") == ["Anta Sports", "深圳安泰科技有限公司"]
    assert find("安泰体育") == ["Anta Sports"]  # the whole company name: exact
    assert find("明") == ["深圳安泰科技有限公司"]  # the contact person
    assert find("重点") == ["北京恒通贸易有限公司"]  # a tag
    assert find("有限公司") == ["北京恒通贸易有限公司", "深圳安泰科技有限公司"]
    assert find("泰安") == []  # both characters, not in this order
    update_customer(session=session, viewer=as_admin(USER, TEAM), customer_id=anta.id, surface="test",
                    data=CustomerInput(name="深圳华为技术有限公司", contact_name="王芳"))  # fmt: skip
    session.commit()
    assert find("明") == [] and find("安泰") == ["Anta Sports"]
    assert find("华为") == ["深圳华为技术有限公司"] and find("芳") == ["深圳华为技术有限公司"]


def test_search_follows_edits_and_deletes(session):
    """The search text and its indexes (SQLite's full-text table, kept by triggers) change with the row."""
    from bot.services.customers import CustomerInput, update_customer
    from bot.services.find import search_customers

    acme = add_customer(session, "Acme", company="Northwind Traders", tags="wholesale")
    add_customer(session, "Other", company="Northwind Supplies")

    def find(text: str) -> list[str]:
        found, _ = search_customers(session=session, viewer=as_admin(team=TEAM), text=text)
        session.commit()
        return [c.name for c in found]

    assert find("northwind") == ["Acme", "Other"] and find("wholesale") == ["Acme"]
    update_customer(session=session, viewer=as_admin(USER, TEAM), customer_id=acme.id, surface="test",
                    data=CustomerInput(name="Acme", company="Contoso", tags="retail"))  # fmt: skip
    session.commit()
    assert find("northwind") == ["Other"] and find("wholesale") == []
    assert find("contoso") == ["Acme"] and find("retail") == ["Acme"]
    session.delete(acme)
    session.commit()
    assert find("contoso") == [] and find("acme") == []


@pytest.mark.parametrize(
    "text", ["acme", "ac", "a", "shop", "s", "555", "x", "@example.com", "trading", "zh", "wei", "张", "深圳", "圳",
             "zhang trading", "a@example.com", "example.com", "exam", "acme.example.com", "a cme", "sh op",
             "acme trading", "big acme trading", "trading post", "acme supplies", "shop one", "深圳华为", "张家口",
             "圳华为"]
)
def test_broad_searches_rank_as_narrow_ones_do(session, monkeypatch, text):
    """With more matches than `SEARCH_CANDIDATES` (or Han characters), the page is built rank
    by rank from the indexes; it must equal ranking every match by the documented rules:
    exact > prefix (a line, an e-mail's domain or a pinyin token) > contains, then by name."""
    from bot.services import find as service

    for name, company, email in [("Acme", None, "a@example.com"), ("Acme Supplies", "Shop One", None),
                                 ("Big Acme Trading", "Acme", "sales@acme.example.com"), ("Shop 2", "Acme", None),
                                 ("Trading Post", "Xylo", "x@example.com"), ("Zeta", "555 Acme", None),
                                 ("Ace Hardware", None, "shop@ace.example.com"), ("Sacme", None, None),
                                 ("张伟", "深圳华为", "wei@example.com"), ("深圳", None, None),
                                 ("Zhang Trading", "张家口", None), ("Wei Shop", "东莞", None),
                                 ("圳口", "Xylo", None)]:  # fmt: skip
        add_customer(session, name, company=company, email=email, phone="+1 555 0100" if name == "Zeta" else None)

    def ranked(limit: int, offset: int) -> tuple[list[str], bool]:
        found, more = service.search_customers(session=session, viewer=as_admin(team=TEAM), text=text, limit=limit, offset=offset)
        session.commit()
        return [c.name for c in found], more

    def rank(c: Customer) -> tuple[int, str] | None:
        lines = c.search_doc.split("\t")[0].split("\n") + (c.search_key or "").split()
        domains = [line.split("@")[1] for line in lines if line.count("@") == 1 and " " not in line]
        lines += [".".join(d.split(".")[i:]) for d in domains for i in range(max(1, d.count(".")))]
        q, spelled = text.casefold(), text.casefold().replace(" ", "")
        if q in lines or spelled in lines:
            return 0, c.name_key
        if any(line.startswith((q, spelled)) for line in lines if line):
            return 1, c.name_key
        return (2, c.name_key) if q in c.search_doc or f" {spelled}" in (c.search_key or "") else None

    expected = [c.name for c in sorted(session.scalars(select(Customer)), key=lambda c: rank(c) or (9, ""))
                if rank(c) is not None]  # fmt: skip
    every = [ranked(3, offset) for offset in (0, 3, 6, 9)]
    assert [name for page, _ in every for name in page] == expected[:12] and expected
    assert [more for _, more in every] == [len(expected) > n for n in (3, 6, 9, 12)]
    # _FEW 0: every prefix walked by its first characters, in name order; WALK_FIRST 0 or 2: the
    # first names hold too few matches, so the trigram probe or the whole walk answers.
    for candidates, few, first in [(2, 200, 1000), (service.SEARCH_CANDIDATES, 0, 1000), (2, 0, 1000),
                                   (service.SEARCH_CANDIDATES, 200, 2), (2, 200, 0), (2, 0, 2)]:  # fmt: skip
        monkeypatch.setattr(service, "SEARCH_CANDIDATES", candidates)
        monkeypatch.setattr(service, "_FEW", few)
        monkeypatch.setattr(service, "WALK_FIRST", first)
        assert [ranked(3, offset) for offset in (0, 3, 6, 9)] == every, (candidates, few, first)


def test_a_common_pattern_is_paged_from_the_first_names_the_viewer_sees(session, monkeypatch):
    """A contains match of three characters or more is first looked for among the first
    `WALK_FIRST` names: when the page fills there, it is the page, with only what the viewer
    sees (six customers they may not see sort before theirs), and the same page as the trigram
    probe or the whole walk gives."""
    from bot.services import find as service
    from bot.services.access import Viewer

    for n in range(6):
        add_customer(session, f"A xhop hidden {n}", owner_id="U0OTHER")
    for n in range(15):
        add_customer(session, f"B xhop {n:02}", owner_id=USER)
    member = Viewer(team_id=TEAM, user_id=USER, sees_all=False)
    probed: list[str] = []
    every = service._Search.every
    monkeypatch.setattr(service._Search, "every", lambda self, n: probed.append(self.q) or every(self, n))

    def pages() -> list[tuple[list[str], bool]]:
        out = []
        for offset in (0, 3, 6, 9, 12):
            found, more = service.search_customers(session=session, viewer=member, text="XHOP", limit=3, offset=offset)
            session.commit()
            out.append(([c.name for c in found], more))
        return out

    mine = [f"B xhop {n:02}" for n in range(15)]
    first = pages()
    assert first == [(mine[i : i + 3], i + 3 < 15) for i in (0, 3, 6, 9, 12)]
    assert probed == ["xhop"]  # the last page only: the first names held 4, 7, 10 and 13 matches
    for short in (0, 2):  # too few names to fill a page: the probe, or the whole walk, answers
        monkeypatch.setattr(service, "WALK_FIRST", short)
        for candidates in (service.SEARCH_CANDIDATES, 2):
            monkeypatch.setattr(service, "SEARCH_CANDIDATES", candidates)
            assert pages() == first, (short, candidates)


def test_a_customer_with_very_long_fields_is_saved_and_found(session):
    """The search text is capped (storage.search.DOC_BYTES) so PostgreSQL's index entries hold
    it; the longest names and any amount of tags still save, and the name is still found."""
    from bot.services.find import search_customers
    from bot.storage.search import DOC_BYTES

    def han(n: int, seed: int) -> str:  # characters that do not repeat, so they do not compress
        return "".join(chr(0x4E00 + (seed + i * 7919) % 20000) for i in range(n))

    name = han(200, 0)
    add_customer(session, name, company=han(200, 1), contact_name=han(200, 2), email="x" * 60 + "@example.com",
                 tags=", ".join(han(4, i) for i in range(1000)))  # fmt: skip
    [customer] = customers_of(session)
    assert len(customer.search_doc.encode()) <= DOC_BYTES and customer.search_doc.endswith("\n")
    for text in (name[:3], name[5:9], "x" * 60 + "@"):
        found, _ = search_customers(session=session, viewer=as_admin(team=TEAM), text=text)
        session.commit()
        assert [c.id for c in found] == [customer.id], text


def test_find_lists_an_e_mail_domain_as_a_name_by_name(slack, session):
    """A domain, or one above it, is matched as a whole field is: before the names that only
    contain it."""
    add_customer(session, "Zeta", email="li@contoso.cn")
    add_customer(session, "Contoso.cn Fans")
    add_customer(session, "Alpha", email="wang@contoso.cn")
    add_customer(session, "Beta", tags="contoso.cn")
    add_customer(session, "Gamma", email="li@shop.contoso.cn")

    def names(text: str) -> list[str]:
        reply = slack.command(f"find {text}")
        return [line.split(" (#")[0].strip("*") for line in reply.shown.splitlines() if " (#" in line]

    add_customer(session, "Delta", email="wu@cn.net")  # begins with `cn`; the others' top level is no line
    assert names("contoso.cn") == ["Alpha", "Gamma", "Zeta", "Contoso.cn Fans", "Beta"]
    assert names("CONTOSO") == ["Alpha", "Contoso.cn Fans", "Gamma", "Zeta", "Beta"]
    assert names("cn") == ["Delta", "Alpha", "Beta", "Contoso.cn Fans", "Gamma", "Zeta"]


def test_find_shows_ten_and_more_pages_on(slack, fake, session):
    for i in range(23):
        add_customer(session, f"Shop {i:02d}")
    reply = slack.command("find shop")
    assert reply.shown.count("Show") == 10 and "More" in reply.shown
    page2 = slack.click(reply.blocks, "More")
    assert page2.status == 200
    sent = fake.last("response_url")
    assert sent["replace_original"] is True
    assert "Shop 10 (#11)" in block_text(sent["blocks"]) and "Shop 09" not in block_text(sent["blocks"])
    slack.click(sent["blocks"], "More")
    last = fake.last("response_url")
    assert block_text(last["blocks"]).count("Show") == 3 and "More" not in block_text(last["blocks"])


def test_find_without_a_match_offers_to_create(slack, fake):
    reply = slack.command("find Nowhere Inc")
    assert "No customer matches “Nowhere Inc”" in reply.shown
    slack.click(reply.blocks, "New")
    view = fake.last("views.open")["view"]
    assert view["blocks"][0]["element"]["initial_value"] == "Nowhere Inc"


def test_find_without_text_explains(slack):
    assert "e.g. `/crm find acme`" in slack.command("find").shown


# --- show -----------------------------------------------------------------------------


def test_show_by_name_number_and_unique_prefix(slack, session):
    add_customer(session, "Acme Ltd", company="Acme Group", grade="B", phone="+86 10 1234 5678")
    add_customer(session, "Beta Corp")
    for ref in ("acme ltd", "#1", "Acm"):
        reply = slack.command(f"show {ref}")
        assert "Acme Ltd (#1)" in reply.shown, ref
        assert "Acme Group" in reply.shown and "+86 10 1234 5678" in reply.shown
        assert "Edit" in reply.shown


def test_show_an_ambiguous_name_lists_candidates_as_buttons(slack, fake, session):
    add_customer(session, "Acme East")
    add_customer(session, "Acme West")
    reply = slack.command("show acme")
    assert "Several customers match “acme”" in reply.shown
    slack.click(reply.blocks, "Show", nth=1)
    assert "Acme West (#2)" in block_text(fake.last("response_url")["blocks"])


def test_show_of_nothing_says_so_with_a_new_button(slack):
    reply = slack.command("show #99")
    assert "No customer matches “#99”" in reply.shown and "New" in reply.shown


# --- edit -----------------------------------------------------------------------------


def test_edit_opens_prefilled_and_records_who_changed_what(slack, fake, session):
    add_customer(session, "Acme Ltd", company="Acme", grade="B")
    slack.command("edit Acme Ltd")
    view = fake.last("views.open")["view"]
    assert view["title"]["text"] == "Edit customer"
    reply = slack.submit(view, {"Company": "Acme Group", "Grade": "A"}, user=OTHER_USER)
    assert reply.status == 200 and reply.text == ""
    [customer] = customers_of(session)
    assert (customer.name, customer.company, customer.grade) == ("Acme Ltd", "Acme Group", "A")
    update = session.scalars(select(AuditEvent).where(AuditEvent.action == "update")).one()
    assert update.actor_id == OTHER_USER
    assert update.changes == {"company": ["Acme", "Acme Group"], "grade": ["B", "A"]}
    assert "updated" in fake.last("chat.postMessage")["text"]


def test_edit_button_on_the_card_opens_the_modal(slack, fake, session):
    add_customer(session, "Acme Ltd")
    card = slack.command("show Acme Ltd")
    slack.click(card.blocks, "Edit")
    assert fake.last("views.open")["view"]["blocks"][0]["element"]["initial_value"] == "Acme Ltd"


def test_edit_to_a_taken_name_is_refused(slack, fake, session):
    add_customer(session, "Acme Ltd")
    add_customer(session, "Beta Corp")
    slack.command("edit Beta Corp")
    reply = slack.submit(fake.last("views.open")["view"], {"Name": "acme ltd"})
    assert reply.json["errors"]["name"].startswith("A customer named “Acme Ltd” already exists")
    assert [c.name for c in customers_of(session)] == ["Acme Ltd", "Beta Corp"]


def test_editing_a_customer_deleted_meanwhile_says_so(slack, fake, session):
    customer = add_customer(session, "Acme Ltd")
    slack.command("edit Acme Ltd")
    session.delete(customer)
    session.commit()
    reply = slack.submit(fake.last("views.open")["view"], {"Company": "X"})
    assert reply.json["errors"] == {"name": "This customer no longer exists."}
    assert customers_of(session) == []


# --- assign ---------------------------------------------------------------------------


def test_assign_changes_the_owner_and_tells_them(slack, fake, session):
    add_customer(session, "Acme Trading Co")
    reply = slack.command(f"assign Acme Trading Co <@{OTHER_USER}|li>")
    assert f"now owned by <@{OTHER_USER}>" in reply.shown
    assert customers_of(session)[0].owner_id == OTHER_USER
    dm = fake.last("chat.postMessage")
    assert dm["channel"] == OTHER_USER and "made you the owner of *Acme Trading Co (#1)*" in dm["text"]
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "assign")).one()
    assert audit.changes == {"owner_id": [USER, OTHER_USER]}


def test_assign_to_the_current_owner_changes_nothing(slack, fake, session):
    add_customer(session, "Acme")
    assert "already owns" in slack.command(f"assign Acme <@{USER}>").shown
    assert fake.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("text", ["assign", "assign Acme", "assign <@U0000002>", "assign Acme li"])
def test_assign_without_customer_or_mention_shows_usage(slack, session, text):
    add_customer(session, "Acme")
    assert "e.g. `/crm assign Acme Ltd @li`" in slack.command(text).shown
    assert customers_of(session)[0].owner_id == USER


def test_assign_with_an_ambiguous_name_assigns_the_picked_candidate(slack, fake, session):
    add_customer(session, "Acme East")
    add_customer(session, "Acme West")
    reply = slack.command(f"assign acme <@{OTHER_USER}>")
    slack.click(reply.blocks, "Show", nth=0)
    assert [c.owner_id for c in customers_of(session)] == [OTHER_USER, USER]
    assert "now owned by" in fake.last("response_url")["text"]


# --- type-ahead -----------------------------------------------------------------------


def test_type_ahead_offers_matching_customers(slack, session):
    add_customer(session, "Acme Ltd")
    add_customer(session, "Acme Labs")
    add_customer(session, "Other")
    reply = slack.suggest("customer_picker", "acme l")
    assert [o["text"]["text"] for o in reply.json["options"]] == ["Acme Labs (#2)", "Acme Ltd (#1)"]


# --- workspaces stay apart --------------------------------------------------------------


def test_one_workspace_never_sees_anothers_customers(slack, fake, session):
    theirs = add_customer(session, "Secret Client", team="T0000002")
    add_customer(session, "Secret Client")  # the same name is fine in another workspace
    assert "No customer matches" in slack.command("find nothing-like-it").shown
    reply = slack.command("find secret", team="T0000002")
    assert reply.shown.count("Show") == 1
    assert [o["value"] for o in slack.suggest("customer_picker", "secret", team="T0000002").json["options"]] == [
        str(theirs.id)
    ]
    # a forged button value naming the other team's customer shows nothing of it
    slack.action("customer_show", str(theirs.id))
    assert fake.last("response_url")["text"] == "This customer no longer exists."
    slack.action("customer_edit", str(theirs.id))
    assert fake.calls_to("views.open") == []


# --- signatures -----------------------------------------------------------------------


def test_bad_or_stale_signatures_are_refused_and_change_nothing(slack, fake, session):
    import time

    add_customer(session, "Acme")
    body = b"command=%2Fcrm&text=assign+Acme+%3C%40U0000002%3E&team_id=T0000001&user_id=U0000001&trigger_id=t"
    ct = "application/x-www-form-urlencoded"
    assert slack.post(body, ct, signature="v0=" + "0" * 64).status == 401
    stale = int(time.time()) - 6 * 60
    assert slack.post(body, ct, timestamp=stale).status == 401
    assert customers_of(session)[0].owner_id == USER
    assert fake.calls == []
    assert slack.post(body, ct).status == 200
    assert customers_of(session)[0].owner_id == OTHER_USER


def test_healthz_answers_when_the_database_does(bot):
    import urllib.request

    with urllib.request.urlopen(bot.url + "/healthz") as resp:
        assert resp.status == 200 and resp.read() == b"ok"


def test_a_failed_notice_keeps_the_assignment_and_tells_the_user(slack, fake, session):
    """The record is the point, the DM a courtesy: Slack refusing the new owner's DM does not
    undo the assignment, and the person who assigned is told the message did not go."""
    add_customer(session, "Acme")
    fake.fail("chat.postMessage", error="channel_not_found")
    reply = slack.command(f"assign Acme <@{OTHER_USER}>")
    assert reply.status == 200 and "now owned by" in reply.shown
    assert customers_of(session)[0].owner_id == OTHER_USER
    told = [c.args for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == USER]
    assert told and "could not be sent (channel_not_found)" in told[-1]["text"]


def test_numbers_are_per_workspace(session):
    a = add_customer(session, "A")
    b = add_customer(session, "B", team="T0000002")
    assert (a.number, b.number) == (1, 1)
    assert session.scalar(select(Customer.number).where(Customer.team_id == TEAM)) == 1


def test_the_card_offers_the_contract_buttons(slack, fake, session):
    add_customer(session, "Acme")
    card = slack.command("show Acme").blocks
    labels = [e["text"]["text"] for b in card if b["type"] == "actions" for e in b["elements"]]
    assert labels == ["Log touch", "Log complaint", "Schedule revisit", "Edit"]
    slack.click(card, "Log complaint")
    assert fake.last("views.open")["view"]["title"]["text"] == "Log complaint"


def test_the_same_email_or_phone_warns_and_offers_the_existing_one(slack, fake, session):
    add_customer(session, "Acme Ltd", email="li@acme.example", phone="+86 138 0013 8000")
    slack.command("new")
    form = fake.last("views.open")["view"]
    reply = slack.submit(form, {"Name": "ACME Trading", "Phone": "+8613800138000"})
    pushed = reply.json
    assert pushed["response_action"] == "push"
    assert pushed["view"]["title"]["text"] == "Possible duplicate"
    assert "Acme Ltd (#1)" in block_text(pushed["view"]["blocks"])
    assert len(customers_of(session)) == 1  # nothing saved yet
    slack.click(pushed["view"]["blocks"], "Show", view=pushed["view"])
    assert "Acme Ltd (#1)" in block_text(fake.last("chat.postMessage")["blocks"])  # the card, in the DM
    saved = slack.submit(pushed["view"], {})
    assert saved.json == {"response_action": "clear"}
    assert [c.name for c in customers_of(session)] == ["Acme Ltd", "ACME Trading"]


def test_save_anyway_after_the_name_was_taken_meanwhile_says_so(slack, fake, session):
    add_customer(session, "Acme Ltd", email="li@acme.example")
    slack.command("new")
    pushed = slack.submit(fake.last("views.open")["view"], {"Name": "Beta", "Email": "LI@acme.example"}).json
    add_customer(session, "Beta")
    reply = slack.submit(pushed["view"], {})
    assert reply.json["response_action"] == "update"
    assert "already exists" in block_text(reply.json["view"]["blocks"])
    assert len(customers_of(session)) == 2


def test_searching_does_not_wait_for_a_writer(slack, session):
    """On SQLite, requests that only read begin deferred: a long write elsewhere does not
    hold up type-ahead or find (it used to, behind the single write lock)."""
    add_customer(session, "Acme Ltd")
    session.add(Customer(team_id=TEAM, number=99, name="Pending", name_key="pending"))
    session.flush()  # this transaction now holds the write lock, and keeps it
    try:
        assert "Acme Ltd (#1)" in slack.command("find acme").shown
        assert [o["text"]["text"] for o in slack.suggest("customer_picker", "acm").json["options"]] == ["Acme Ltd (#1)"]
    finally:
        session.rollback()


def test_a_name_with_an_ampersand_is_found_as_slack_sends_it(slack, session):
    """Slack escapes `&`, `<` and `>` in a slash command's text; the name is what was typed."""
    add_customer(session, "Granite & Co")
    card = slack.command("show Granite &amp; Co")
    assert card.blocks[0]["text"]["text"] == "Granite & Co (#1)"  # a header is plain text
    assert card.json["text"] == "Granite &amp; Co (#1)"  # mrkdwn: escaped again
    assert "*Granite &amp; Co (#1)*" in slack.command("find granite &amp;").shown
