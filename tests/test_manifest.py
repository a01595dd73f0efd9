"""manifest.yml is part of the interface: Slack creates the app from it."""

from pathlib import Path

import yaml

MANIFEST = yaml.safe_load((Path(__file__).parents[1] / "manifest.yml").read_text())


def test_the_slash_command_escapes_mentions_and_posts_to_the_bot():
    [command] = MANIFEST["features"]["slash_commands"]
    assert command["command"] == "/crm"
    assert command["should_escape"] is True
    assert command["url"].endswith("/slack/events")


def test_interactivity_options_and_events_reach_the_same_endpoint():
    settings = MANIFEST["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    for url in (settings["interactivity"]["request_url"], settings["interactivity"]["message_menu_options_url"],
                settings["event_subscriptions"]["request_url"]):  # fmt: skip
        assert url.endswith("/slack/events")
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True


def test_the_bot_has_the_scopes_its_calls_need():
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:write", "users:read", "files:write"} <= scopes


RAW = (Path(__file__).parents[1] / "manifest.yml").read_text()


def _listed_under(key: str) -> list[str]:
    """The raw lines of the list under `key:` (scopes, events), comments included."""
    lines = RAW.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"{key}:")
    return [line for line in lines[start + 1 :] if line.strip().startswith("- ")][: len(_items(key))]


def _items(key: str) -> list[str]:
    return MANIFEST["oauth_config"]["scopes"]["bot"] if key == "bot" else MANIFEST["settings"]["event_subscriptions"][key]


def test_every_scope_and_event_says_why_it_is_there():
    for key in ("bot", "bot_events"):
        for line in _listed_under(key):
            assert "#" in line and line.split("#", 1)[1].strip(), f"{line.strip()!r}: say why (a comment)"


def test_linked_channels_the_emoji_and_the_steps_have_exactly_their_scopes_and_events():
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert scopes == {"commands", "chat:write", "chat:write.public", "im:write", "users:read", "users:read.email",
                      "files:write", "channels:read", "groups:read", "channels:join", "channels:history",
                      "groups:history", "reactions:read"}  # fmt: skip
    events = MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    assert events == ["app_home_opened", "message.channels", "message.groups", "reaction_added", "app_uninstalled",
                      "tokens_revoked"]  # the last two: many-workspace mode
    # Custom steps need an org-ready app; function_executed comes with `functions`, unsubscribed.
    assert MANIFEST["settings"]["org_deploy_enabled"] is True


def test_the_workflow_steps_are_the_ones_the_bot_listens_for():
    from bot.views import ids

    functions = MANIFEST["functions"]
    assert set(functions) == {ids.STEP_LOG_TOUCH, ids.STEP_LOG_COMPLAINT, ids.STEP_FIND_CUSTOMER}
    titles = {name: f["title"] for name, f in functions.items()}
    assert titles == {ids.STEP_LOG_TOUCH: "Log touch", ids.STEP_LOG_COMPLAINT: "Log complaint",
                      ids.STEP_FIND_CUSTOMER: "Find customer"}  # fmt: skip
    inputs = {name: set(f["input_parameters"]) for name, f in functions.items()}
    assert inputs == {ids.STEP_LOG_TOUCH: {"customer", "kind", "summary", "when", "author"},
                      ids.STEP_LOG_COMPLAINT: {"customer", "title", "description", "severity", "author"},
                      ids.STEP_FIND_CUSTOMER: {"text"}}  # fmt: skip
    outputs = {name: set(f["output_parameters"]) for name, f in functions.items()}
    assert outputs == {ids.STEP_LOG_TOUCH: {"touch_id"}, ids.STEP_LOG_COMPLAINT: {"complaint_number"},
                       ids.STEP_FIND_CUSTOMER: {"customer_id", "name", "owner"}}  # fmt: skip


def test_an_oauth_install_asks_for_the_manifests_scopes_and_comes_back_to_the_bot():
    from bot.oauth import BOT_SCOPES

    assert set(BOT_SCOPES) == set(MANIFEST["oauth_config"]["scopes"]["bot"])
    [redirect] = MANIFEST["oauth_config"]["redirect_urls"]
    assert redirect.endswith("/slack/oauth_redirect")
    assert {"app_uninstalled", "tokens_revoked"} <= set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
