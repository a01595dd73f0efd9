"""The playground in a real browser (Chromium, driven by Selenium), used as a person uses it.

Each step asserts what is on the screen, never the database. The steps save screenshots;
README's four come from here:

    TOUCHBASE_SCREENSHOTS=docs .venv/bin/pytest tests/test_playground_browser.py

writes docs/playground-*.png (without the variable they go to pytest's temporary directory).
Needs Debian's `chromium` and `chromium-driver` (CI installs them); without them these tests
are skipped, saying so.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_settings
from bot.playground.server import Playground, build

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException  # noqa: E402
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
    playground.server.shutdown()
    playground.server.server_close()


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

        def button() -> WebElement | None:
            root = within or (self.modal() if self.d.find_elements(By.CSS_SELECTOR, ".modal") else self.d)
            buttons = root.find_elements(By.CSS_SELECTOR, "button, a.bk-button")
            for b in buttons if within is not None else reversed(buttons):
                if b.text.strip() == label and b.is_displayed():
                    return b
            return None

        self.wait(button, f"a button {label!r}").click()

    def message_menu(self, message: WebElement, item: str) -> None:
        """The ⋮ menu a message shows on hover."""
        ActionChains(self.d).move_to_element(message).perform()
        self.wait(lambda: message.find_element(By.CSS_SELECTOR, ".msg-more").is_displayed(), "the message's menu")
        message.find_element(By.CSS_SELECTOR, ".msg-more").click()
        self.pick(item)

    def go(self, name: str) -> None:
        """A channel (`#sales`) or the app (`touchbase`) in the sidebar."""
        for item in self.d.find_elements(By.CSS_SELECTOR, "#sidebar .side-item"):
            if item.find_element(By.CSS_SELECTOR, ".side-name").text.strip() in (name, f"# {name.lstrip('#')}"):
                item.click()
                return
        raise AssertionError(f"no {name} in the sidebar")

    def tab(self, name: str) -> None:
        self.d.find_element(By.CSS_SELECTOR, f'.tab[data-tab="{name}"]').click()

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

        def found() -> WebElement | None:
            for row in self.d.find_elements(By.CSS_SELECTOR, ".popover .bk-option, .popover .menu-item"):
                if any(line.strip().startswith(option) for line in row.text.splitlines()):
                    return row
            return None

        self.wait(found, f"the option {option!r}").click()

    def submit(self) -> None:
        self.modal().find_element(By.CSS_SELECTOR, ".modal-submit").click()

    def act_as(self, name: str) -> None:
        self.d.find_element(By.CSS_SELECTOR, ".me-button").click()
        self.pick(name)
        self.sees(name, "#me")

    def run_scheduler(self, preset: str) -> None:
        self.wait(lambda: self.d.find_element(By.CSS_SELECTOR, ".clock-run").is_enabled(), "the scheduler idle")
        self.d.find_element(By.CSS_SELECTOR, ".clock-run").click()
        self.pick(preset)
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

    # Jake finds it in his DM with the app and acknowledges it.
    me.act_as("Jake Miller")
    me.go("touchbase")
    me.tab("messages")
    notice = me.message_with("Invoice sent twice")
    me.click("Acknowledge", within=notice)
    me.wait(lambda: "Acknowledged" in me.message_with("Invoice sent twice").text, "the complaint acknowledged")

    # The next working morning, Jake's digest of due revisits arrives.
    me.run_scheduler("Next working morning")
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
    me.run_scheduler("Next working morning")
    me.tab("messages")
    me.message_with("推迟")
