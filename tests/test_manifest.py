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


def test_an_oauth_install_asks_for_the_manifests_scopes_and_comes_back_to_the_bot():
    from bot.oauth import BOT_SCOPES

    assert set(BOT_SCOPES) == set(MANIFEST["oauth_config"]["scopes"]["bot"])
    [redirect] = MANIFEST["oauth_config"]["redirect_urls"]
    assert redirect.endswith("/slack/oauth_redirect")
    assert {"app_uninstalled", "tokens_revoked"} <= set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
