"""The playground in a real browser (Chromium, driven by Selenium), used as a person uses it.

Each step asserts what is on the screen, never the database. The steps save screenshots;
README's four come from here:

    TOUCHBASE_SCREENSHOTS=docs .venv/bin/pytest tests/test_playground_browser.py

writes docs/playground-*.png (without the variable they go to pytest's temporary directory).
Needs Debian's `chromium` and `chromium-driver` (CI installs them); without them these tests
are skipped, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.config import load_settings
from bot.playground import demo
from bot.playground.server import TOKEN, Playground, build
from bot.playground.signer import Answer

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
from selenium.common.exceptions import (  # noqa: E402
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Chromium is not installed: apt-get install -y chromium chromium-driver (CI does)",
)
WAIT = 30  # seconds a step may take to show (the first report imports matplotlib)
CHROME_ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--no-first-run", "--window-size=1280,860", "--lang=en-US")  # fmt: skip


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Playground]:
    path = tmp_path_factory.mktemp("playground") / "playground.db"
    base = load_settings(_env_file=None, database_url=f"sqlite:///{path}")
    playground = build(base, port=0, path=path, say=lambda _line: None)
    thread = threading.Thread(target=playground.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield playground
    playground.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = os.environ.get("TOUCHBASE_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    profile = tempfile.mkdtemp(prefix="touchbase-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        errors = [e["message"] for e in driver.get_log("browser") if "favicon" not in e["message"]]
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
        assert not errors, f"the page logged errors: {errors}"


class Person:
    """Someone at the keyboard: types, clicks what they read, waits to see the answer."""

    def __init__(self, driver: Any, url: str, screenshots: Path) -> None:
        self.d = driver
        self.url = url
        self.screenshots = screenshots

    # looking

    def wait(self, condition: Any, what: str, timeout: float = WAIT) -> Any:
        try:
            return WebDriverWait(self.d, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(
                lambda _d: condition()
            )
        except WebDriverException:
            self.shot("failed")
            raise AssertionError(f"never saw {what}; the page showed:\n{self.screen_text()[-3000:]}") from None

    def screen_text(self) -> str:
        return str(self.d.find_element(By.TAG_NAME, "body").text)

    def sees(self, text: str, within: str = "body") -> WebElement:
        """Wait until `text` is on the screen (within the CSS selector `within`); the element."""

        def found() -> WebElement | None:
            for element in self.d.find_elements(By.CSS_SELECTOR, within):
                if text in element.text:
                    return element
            return None

        return self.wait(found, repr(text))

    def messages(self) -> list[WebElement]:
        return self.d.find_elements(By.CSS_SELECTOR, "#conv-body .msg")

    def message_with(self, text: str) -> WebElement:
        """The newest message of the conversation that shows `text`."""

        def found() -> WebElement | None:
            for message in reversed(self.messages()):
                if text in message.text:
                    return message
            return None

        return self.wait(found, f"a message with {text!r}")

    def shot(self, name: str, *, top: WebElement | None = None) -> Path:
        """A screenshot (with `top` scrolled to the top of the view), without passing notices."""
        if top is not None:
            self.d.execute_script("arguments[0].scrollIntoView({block: 'start'})", top)
        ActionChains(self.d).move_to_element(self.d.find_element(By.ID, "brand")).perform()  # no hover tools
        self.d.execute_script("document.querySelectorAll('.toast').forEach((t) => t.remove())")
        path = self.screenshots / f"playground-{name}.png"
        self.d.save_screenshot(str(path))
        return path

    # doing

    def open(self) -> None:
        self.d.get(self.url)
        self.wait(lambda: "ready" in (self.d.find_element(By.TAG_NAME, "body").get_attribute("class") or ""), "the page")

    def type(self, text: str) -> None:
        box = self.wait(lambda: self.d.find_element(By.CSS_SELECTOR, "#composer textarea"), "the message box")
        box.click()
        box.send_keys(text)

    def send(self, text: str) -> None:
        self.type(text + "\n")

    def click(self, label: str, within: WebElement | None = None) -> None:
        """Press the button that reads `label`: the first in `within`, else the newest on the
        screen (in the modal when one is open)."""

        def pressed() -> bool:
            root = within or (self.modal() if self.d.find_elements(By.CSS_SELECTOR, ".modal") else self.d)
            buttons = root.find_elements(By.CSS_SELECTOR, "button, a.bk-button")
            for b in buttons if within is not None else reversed(buttons):
                if b.text.strip() == label and b.is_displayed():
                    b.click()
                    return True
            return False

        self.wait(pressed, f"a button {label!r}")

    def message_menu(self, message: WebElement, item: str) -> None:
        """The ⋮ menu a message shows on hover."""
        ActionChains(self.d).move_to_element(message).perform()
        self.wait(lambda: message.find_element(By.CSS_SELECTOR, ".msg-more").is_displayed(), "the message's menu")
        message.find_element(By.CSS_SELECTOR, ".msg-more").click()
        self.pick(item)

    def react(self, message: WebElement, emoji: str) -> None:
        """The reaction tool a message shows on hover, and `emoji` in its menu."""
        ActionChains(self.d).move_to_element(message).perform()
        self.wait(lambda: message.find_element(By.CSS_SELECTOR, ".msg-react").is_displayed(), "the reaction tool")
        message.find_element(By.CSS_SELECTOR, ".msg-react").click()
        self.pick(emoji)

    def press(self, css: str, what: str) -> None:
        """Click the element `css` finds, trying again if the page drew it anew meanwhile."""

        def clicked() -> bool:
            self.d.find_element(By.CSS_SELECTOR, css).click()
            return True

        self.wait(clicked, what)

    def go(self, name: str) -> None:
        """A channel (`#sales`) or the app (`touchbase`) in the sidebar."""

        def clicked() -> bool:
            for item in self.d.find_elements(By.CSS_SELECTOR, "#sidebar .side-item"):
                if item.find_element(By.CSS_SELECTOR, ".side-name").text.strip() in (name, f"# {name.lstrip('#')}"):
                    item.click()
                    return True
            return False

        self.wait(clicked, f"{name} in the sidebar")

    def tab(self, name: str) -> None:
        self.press(f'.tab[data-tab="{name}"]', f"the {name} tab")

    def modal(self, title: str | None = None) -> WebElement:
        def found() -> WebElement | None:
            for modal in self.d.find_elements(By.CSS_SELECTOR, ".modal"):
                if title is None or modal.find_element(By.CSS_SELECTOR, ".modal-title").text == title:
                    return modal
            return None

        return self.wait(found, f"the modal {title!r}" if title else "a modal")

    def no_modal(self) -> None:
        self.wait(lambda: not self.d.find_elements(By.CSS_SELECTOR, ".modal"), "the modal close")

    def field(self, label: str) -> WebElement:
        """An input block of the open modal, by its label."""

        def found() -> WebElement | None:
            for block in self.modal().find_elements(By.CSS_SELECTOR, ".bk-input"):
                text = block.find_element(By.CSS_SELECTOR, ".bk-label").text
                if text == label or text.startswith(label + " ") or text.startswith(label + "（"):
                    return block
            return None

        return self.wait(found, f"a field {label!r}")

    def fill(self, label: str, text: str) -> None:
        box = self.field(label).find_element(By.CSS_SELECTOR, "input, textarea")
        box.clear()
        box.send_keys(text)

    def choose(self, label: str, option: str, *, search: str | None = None) -> None:
        """Pick `option` in the select menu of the field `label` (typing `search` first)."""
        self.field(label).find_element(By.CSS_SELECTOR, ".bk-select-trigger").click()
        self.pick(option, search=search)

    def pick(self, option: str, *, search: str | None = None) -> None:
        if search is not None:
            self.wait(lambda: self.d.find_element(By.CSS_SELECTOR, ".picker-search"), "the search box").send_keys(search)

        def picked() -> bool:
            for row in self.d.find_elements(By.CSS_SELECTOR, ".popover .bk-option, .popover .menu-item"):
                if any(line.strip().startswith(option) for line in row.text.splitlines()):
                    row.click()
                    return True
            return False

        self.wait(picked, f"the option {option!r}")

    def submit(self) -> None:
        self.modal().find_element(By.CSS_SELECTOR, ".modal-submit").click()

    def act_as(self, name: str) -> None:
        self.press(".me-button", "the person switcher")
        self.pick(name)
        self.sees(name, "#me")

    def run_scheduler(self, preset: str) -> None:
        """The clock's menu: `preset` is hour, day, morning (the next working morning) or monday."""
        self.wait(lambda: self.d.find_element(By.CSS_SELECTOR, ".clock-run").is_enabled(), "the scheduler idle")
        self.press(".clock-run", "the scheduler's menu")
        self.wait(lambda: self.d.find_element(By.CSS_SELECTOR, f'.clock-menu [data-preset="{preset}"]'), "the presets").click()
        self.sees("sweep at", "#toasts")


@pytest.fixture
def person(browser: Any, playground: Playground, screenshots: Path) -> Person:
    me = Person(browser, playground.url + "/", screenshots)
    me.open()
    return me


def test_a_day_in_the_playground(person: Person) -> None:
    me = person
    me.sees("Maria García", "#me")

    # The message box hints the sub-commands as you type.
    me.type("/crm fi")
    me.sees("/crm find <text>", ".hints")
    me.d.find_element(By.CSS_SELECTOR, "#composer textarea").clear()

    # Create a customer through the modal; a bad email comes back under its field.
    me.send("/crm new Zhou Logistics")
    me.modal("New customer")
    me.fill("Company", "Zhou Logistics GmbH")
    me.fill("Email", "not an email")
    me.choose("Grade", "A")
    me.submit()
    me.sees("This is not an email address", ".modal .bk-error")
    me.fill("Email", "anna@zhou.example")
    me.submit()
    me.no_modal()
    me.go("touchbase")
    me.tab("messages")
    me.message_with("Customer Zhou Logistics (#")

    # Find it, and open its profile card (an answer only I see).
    me.go("#general")
    me.send("/crm find Zhou Logistics")
    found = me.message_with("Customers matching")
    assert "Zhou Logistics" in found.text and "Only visible to you" in found.text
    me.click("Show", within=found)
    card = me.message_with("Next revisit")
    assert "Zhou Logistics GmbH" in card.text and "anna@zhou.example" in card.text

    # Log a touch from the card.
    me.click("Log touch", within=card)
    me.modal("Log touch")
    me.sees("Zhou Logistics", ".modal .bk-select-value")
    me.fill("Summary", "Visited their new warehouse; they want a quote for 40 pallets a week.")
    me.fill("Next step", "Send the quote")
    me.shot("log-touch")
    me.submit()
    me.no_modal()
    me.go("touchbase")
    me.tab("messages")
    me.message_with("Touch with Zhou Logistics")

    # A message in #sales becomes a touch through its menu; the type-ahead asks the bot.
    me.go("#sales")
    said = me.message_with("200 units by Friday")
    me.message_menu(said, "Log as touch")
    me.modal("Log touch")
    assert "200 units by Friday" in me.field("Summary").find_element(By.TAG_NAME, "textarea").get_attribute("value")
    me.choose("Customer", "Acme Ltd", search="acm")
    me.submit()
    me.no_modal()

    # The complaint emoji on it: the reaction shows under it, and touchbase offers me alone
    # to log a complaint from it.
    me.react(me.message_with("200 units by Friday"), "🚨")
    me.wait(lambda: "🚨 1" in me.message_with("200 units by Friday").text, "the reaction under the message")
    me.click("Log complaint", within=me.message_with("Log this as a complaint?"))
    me.modal("Log complaint")
    assert "200 units by Friday" in me.field("Description").find_element(By.TAG_NAME, "textarea").get_attribute("value")
    me.modal().find_element(By.CSS_SELECTOR, ".modal-close").click()
    me.no_modal()

    # Log a complaint, assigned to Jake.
    me.go("#general")
    me.send("/crm complaint")
    me.modal("Log complaint")
    me.choose("Customer", "Acme Ltd", search="acme")
    me.fill("Title", "Invoice sent twice")
    me.choose("Assignee", "Jake Miller")
    me.submit()
    me.no_modal()

    # A customer with a history: touches, an open complaint, the next revisit.
    me.send("/crm show Acme Ltd")
    acme = me.message_with("Invoice sent twice")
    assert "Open complaints" in acme.text and "200 units by Friday" in acme.text
    me.shot("card", top=acme)

    # A workflow step, run by hand from the ⚡ of the message box: Slackbot says how it ended.
    me.press("#composer .composer-workflows", "the workflow steps")
    me.pick("Log touch")
    me.modal("Log touch")
    me.fill("Customer", "Acme Ltd")
    me.fill("Kind", "visit")
    me.fill("Summary", "Walked the plant floor with their buyer")
    me.submit()
    me.no_modal()
    assert "Touch id: " in me.message_with("The workflow step Log touch finished").text

    # Jake finds it in his DM with the app and acknowledges it.
    me.act_as("Jake Miller")
    me.go("touchbase")
    me.tab("messages")
    notice = me.message_with("Invoice sent twice")
    me.click("Acknowledge", within=notice)
    me.wait(lambda: "Acknowledged" in me.message_with("Invoice sent twice").text, "the complaint acknowledged")

    # The next working morning, Jake's digest of due revisits arrives.
    me.run_scheduler("morning")
    digest = me.message_with("Snooze")
    assert "overdue" in digest.text
    me.shot("digest", top=digest)

    # The report, with its chart, comes to the DM.
    me.send("/crm report quarter")
    chart = me.wait(lambda: me.d.find_elements(By.CSS_SELECTOR, "#conv-body .msg-file.image img"), "the report chart")
    me.wait(lambda: chart[0].get_attribute("naturalWidth") not in (None, "0"), "the chart drawn")
    me.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", chart[0])
    me.shot("report")

    # Li Wei reads Slack in Chinese: so does touchbase.
    me.act_as("李伟 Li Wei")
    me.go("touchbase")
    me.tab("home")
    me.sees("新建客户", "#conv-body")
    me.sees("今天到期或已逾期", "#conv-body")
    me.run_scheduler("morning")
    me.tab("messages")
    me.message_with("推迟")

    # All day long the bot asked Slack nothing Slack would have refused (the page's Web API log).
    me.press(".side-log", "the Web API log")
    me.sees("views.publish", "#side .log")
    refused = [row.text for row in me.d.find_elements(By.CSS_SELECTOR, "#side .log-row.failed")]
    assert not refused, refused


# --- Block Kit, drawn ------------------------------------------------------------------------------


class Recorder:
    """Stands in for the bot behind the relay: keeps every payload the page's actions become,
    and answers each with the next of `answers` (else an empty acknowledgement)."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.answers: list[Answer] = []

    def payload(self, payload: dict[str, Any]) -> Answer:
        self.payloads.append(payload)
        return self.answers.pop(0) if self.answers else Answer(200, "")

    def form(self, fields: dict[str, str]) -> Answer:
        return Answer(200, "")

    def event(self, envelope: dict[str, Any]) -> Answer:
        return Answer(200, "")

    def last(self, kind: str) -> dict[str, Any]:
        found = [p for p in self.payloads if p["type"] == kind]
        assert found, f"the page sent no {kind}; it sent {[p['type'] for p in self.payloads]}"
        return found[-1]


@pytest.fixture
def recorder(playground: Playground) -> Iterator[Recorder]:
    real, playground.relay.signer = playground.relay.signer, Recorder()  # type: ignore[assignment]
    yield playground.relay.signer  # type: ignore[misc]
    playground.relay.signer = real


def _text(kind: str, text: str) -> dict[str, Any]:
    return {"type": kind, "text": text}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _text("plain_text", text), "value": value}


PICTURE = "data:image/svg+xml," + "%3Csvg xmlns='http://www.w3.org/2000/svg' width='40' height='20'%3E%3Crect width='40' height='20' fill='teal'/%3E%3C/svg%3E"
CONFIRM = {"title": _text("plain_text", "Really?"), "text": _text("mrkdwn", "This *cannot* be undone."),
           "confirm": _text("plain_text", "Do it"), "deny": _text("plain_text", "Stop"), "style": "danger"}  # fmt: skip
GALLERY = [
    {"type": "header", "text": _text("plain_text", "Gallery :tada:")},
    {"type": "section", "block_id": "fmt", "text": _text(
        "mrkdwn", f"*bold* _italic_ ~strike~ `code` <https://example.com/x|a link> <@{demo.JAKE}> "
                  f"<#{demo.SALES}> &lt;tag&gt; &amp; more :white_check_mark:\n&gt; a quote"),
     "accessory": {"type": "button", "action_id": "dangerous", "text": _text("plain_text", "Erase"), "value": "7",
                   "style": "danger", "confirm": CONFIRM}},
    {"type": "section", "fields": [_text("mrkdwn", "*Owner*\nMaria"), _text("plain_text", "Grade A")],
     "accessory": {"type": "overflow", "action_id": "menu", "options": [_option("Edit", "e"), _option("Delete", "d")]}},
    {"type": "context", "elements": [{"type": "image", "image_url": PICTURE, "alt_text": "logo"},
                                     _text("mrkdwn", "context *words*")]},
    {"type": "divider"},
    {"type": "image", "image_url": PICTURE, "alt_text": "a chart", "title": _text("plain_text", "Chart title")},
    {"type": "actions", "block_id": "row", "elements": [
        {"type": "button", "action_id": "go", "text": _text("plain_text", "Go"), "value": "go", "style": "primary"},
        {"type": "static_select", "action_id": "kind", "placeholder": _text("plain_text", "Pick a kind"),
         "option_groups": [{"label": _text("plain_text", "Talk"), "options": [_option("Call", "call"), _option("Visit", "visit")]},
                           {"label": _text("plain_text", "Write"), "options": [_option("Email", "email")]}]},
        {"type": "users_select", "action_id": "who", "placeholder": _text("plain_text", "Someone")},
        {"type": "datepicker", "action_id": "day", "initial_date": "2026-12-01"},
        {"type": "checkboxes", "action_id": "ticks", "options": [_option("Urgent", "u"), _option("Billing", "b")]},
        {"type": "workflow_button", "action_id": "wf", "text": _text("plain_text", "Run"),
         "workflow": {"trigger": {"url": "https://slack.com/shortcuts/Ft0/x"}}},
    ]},
    {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
        {"type": "text", "text": "rich ", "style": {"bold": True}}, {"type": "text", "text": "text"}]}]},
    {"type": "call", "call_id": "R0123"},
]


def test_block_kit_is_drawn_and_answered_as_slack_does(person: Person, playground: Playground, recorder: Recorder):
    me = person
    api = WebClient(token=TOKEN, base_url=playground.url + "/api/")
    posted = api.chat_postMessage(channel=demo.GENERAL, text="gallery", blocks=GALLERY)
    api.chat_postMessage(channel=demo.GENERAL, thread_ts=posted["ts"], text="a reply in the *thread*")
    # The page draws the message anew when its reply comes: hold on to it once the reply shows.
    me.wait(lambda: "1 reply" in me.message_with("Gallery").text, "the message's reply")
    message = me.message_with("Gallery")

    # The thread: its replies under "1 reply", in the side pane.
    me.click("1 reply", within=message)
    assert "a reply in the thread" in me.sees("a reply in the thread", "#side .thread-messages").text

    # mrkdwn: each style its own element, mentions by name, the escaped characters as written.
    fmt = message.find_element(By.CSS_SELECTOR, '[data-block-id="fmt"] .bk-section-text')
    assert [fmt.find_element(By.TAG_NAME, tag).text for tag in ("b", "i", "s", "code")] == ["bold", "italic", "strike", "code"]
    link = fmt.find_element(By.CSS_SELECTOR, "a.link")
    assert (link.text, link.get_attribute("href")) == ("a link", "https://example.com/x")
    assert "@Jake Miller" in fmt.text and "#sales" in fmt.text and "<tag> & more ✅" in fmt.text
    assert fmt.find_element(By.CSS_SELECTOR, "blockquote").text == "a quote"
    assert "Gallery 🎉" in message.text and "Grade A" in message.text and "context words" in message.text
    assert message.find_element(By.CSS_SELECTOR, ".bk-rich-text b").text == "rich"
    assert message.find_element(By.CSS_SELECTOR, ".bk-image img").get_attribute("alt") == "a chart"
    # What the page cannot draw is said, with its type; nothing disappears.
    placeholders = [p.get_attribute("data-type") for p in message.find_elements(By.CSS_SELECTOR, ".bk-unsupported")]
    assert placeholders == ["workflow_button", "call"]

    # A button with a confirm dialog: nothing is sent until the person confirms.
    me.click("Erase", within=message)
    dialog = me.sees("Really?", ".confirm")
    assert "cannot" in dialog.find_element(By.TAG_NAME, "b").text
    me.click("Do it", within=dialog)
    pressed = me.wait(lambda: recorder.payloads and recorder.last("block_actions"), "the button's payload")
    assert pressed["actions"][0]["action_id"] == "dangerous" and pressed["actions"][0]["value"] == "7"
    assert pressed["container"]["type"] == "message" and pressed["message"]["ts"] and pressed["response_url"]
    assert pressed["user"]["id"] == demo.ADMIN and pressed["trigger_id"]

    # An overflow menu, a grouped select, a users select, a date, checkboxes.
    message.find_element(By.CSS_SELECTOR, ".bk-overflow").click()
    me.pick("Delete")
    me.wait(lambda: recorder.last("block_actions")["actions"][0].get("selected_option", {}).get("value") == "d", "the overflow")
    message.find_element(By.CSS_SELECTOR, '[data-action-id="kind"] .bk-select-trigger').click()
    me.sees("Write", ".popover")
    me.pick("Email")
    me.wait(lambda: recorder.last("block_actions")["actions"][0].get("selected_option", {}).get("value") == "email", "the select")
    message.find_element(By.CSS_SELECTOR, '[data-action-id="who"] .bk-select-trigger').click()
    me.pick("Priya Sharma")
    me.wait(lambda: recorder.last("block_actions")["actions"][0].get("selected_user") == demo.PRIYA, "the users select")
    day = message.find_element(By.CSS_SELECTOR, '[data-action-id="day"]')
    me.d.execute_script("arguments[0].value = '2026-12-24'; arguments[0].dispatchEvent(new Event('change'))", day)
    me.wait(lambda: recorder.last("block_actions")["actions"][0].get("selected_date") == "2026-12-24", "the date")
    message.find_element(By.XPATH, ".//label[contains(., 'Billing')]").click()
    me.wait(lambda: [o.get("value") for o in recorder.last("block_actions")["actions"][0].get("selected_options", [{}])]
            == ["b"], "the checkboxes")  # fmt: skip


MODAL = {
    "type": "modal", "callback_id": "gallery", "title": _text("plain_text", "Every input"),
    "submit": _text("plain_text", "Send"), "close": _text("plain_text", "Back"), "private_metadata": "m",
    "blocks": [
        {"type": "input", "block_id": "note", "label": _text("plain_text", "Note"),
         "element": {"type": "plain_text_input", "action_id": "v", "multiline": True}},
        {"type": "input", "block_id": "count", "optional": True, "label": _text("plain_text", "Count"),
         "element": {"type": "number_input", "action_id": "v", "is_decimal_allowed": False, "min_value": "1", "max_value": "9"}},
        {"type": "input", "block_id": "mail", "optional": True, "label": _text("plain_text", "Mail"),
         "element": {"type": "email_text_input", "action_id": "v"}},
        {"type": "input", "block_id": "kind", "label": _text("plain_text", "Kind"),
         "element": {"type": "radio_buttons", "action_id": "v", "options": [_option("Call", "call"), _option("Visit", "visit")],
                     "initial_option": _option("Visit", "visit")}},
        {"type": "input", "block_id": "people", "optional": True, "label": _text("plain_text", "People"),
         "element": {"type": "multi_users_select", "action_id": "v", "initial_users": [demo.LI]}},
        {"type": "input", "block_id": "where", "optional": True, "label": _text("plain_text", "Where"),
         "element": {"type": "conversations_select", "action_id": "v", "initial_conversation": demo.SALES}},
        {"type": "input", "block_id": "at", "optional": True, "label": _text("plain_text", "At"),
         "element": {"type": "timepicker", "action_id": "v", "initial_time": "09:30"}},
        {"type": "input", "block_id": "when", "optional": True, "label": _text("plain_text", "When"),
         "element": {"type": "datetimepicker", "action_id": "v", "initial_date_time": 1764579600}},
        {"type": "input", "block_id": "file", "optional": True, "label": _text("plain_text", "File"),
         "element": {"type": "file_input", "action_id": "v"}},
    ],
}  # fmt: skip


def test_a_modal_of_every_input_checks_submits_and_follows_the_answer(person: Person, playground: Playground,
                                                                      recorder: Recorder):  # fmt: skip
    me = person
    api = WebClient(token=TOKEN, base_url=playground.url + "/api/")
    api.views_open(trigger_id=playground.fake.new_trigger(demo.ADMIN), view=MODAL)
    me.modal("Every input")
    assert "(optional)" in me.field("Count").text and "(optional)" not in me.field("Note").text
    assert [p.get_attribute("data-type") for p in me.modal().find_elements(By.CSS_SELECTOR, ".bk-unsupported")] == ["file_input"]
    assert "#sales" in me.field("Where").text and "李伟 Li Wei" in me.field("People").text

    # What Slack itself refuses before the app hears of it: an empty required field, a number out of range.
    me.fill("Count", "12")
    me.submit()
    me.sees("Please complete this required field.", ".modal .bk-error")
    me.sees("at most 9", ".modal .bk-error")
    assert not [p for p in recorder.payloads if p["type"] == "view_submission"]

    # The app answers with an error under a field: shown there, and what was typed stays.
    me.fill("Note", "first line")
    me.fill("Count", "3")
    recorder.answers.append(Answer(200, json.dumps({"response_action": "errors", "errors": {"note": "Say more."}})))
    me.submit()
    me.sees("Say more.", ".modal .bk-error")
    sent = recorder.last("view_submission")
    values = sent["view"]["state"]["values"]
    assert values["note"]["v"] == {"type": "plain_text_input", "value": "first line"}
    assert values["count"]["v"] == {"type": "number_input", "value": "3"}
    assert values["kind"]["v"]["selected_option"]["value"] == "visit"
    assert values["people"]["v"] == {"type": "multi_users_select", "selected_users": [demo.LI]}
    assert values["where"]["v"] == {"type": "conversations_select", "selected_conversation": demo.SALES}
    assert values["at"]["v"] == {"type": "timepicker", "selected_time": "09:30"}
    assert values["when"]["v"] == {"type": "datetimepicker", "selected_date_time": 1764579600}
    assert (sent["view"]["callback_id"], sent["view"]["private_metadata"]) == ("gallery", "m")
    assert me.field("Note").find_element(By.TAG_NAME, "textarea").get_attribute("value") == "first line"

    # The app updates the view: what was typed into an input it kept stays.
    updated = {**MODAL, "title": _text("plain_text", "Every input, again")}
    recorder.answers.append(Answer(200, json.dumps({"response_action": "update", "view": updated})))
    me.submit()
    me.modal("Every input, again")
    assert me.field("Note").find_element(By.TAG_NAME, "textarea").get_attribute("value") == "first line"

    # A pushed view, then the app clears them all.
    pushed = {"type": "modal", "title": _text("plain_text", "Pushed"), "submit": _text("plain_text", "Done"),
              "blocks": [{"type": "section", "text": _text("mrkdwn", "*on top*")}]}  # fmt: skip
    recorder.answers.append(Answer(200, json.dumps({"response_action": "push", "view": pushed})))
    me.submit()
    me.modal("Pushed")
    recorder.answers.append(Answer(200, json.dumps({"response_action": "clear"})))
    me.submit()
    me.no_modal()
