"""`/crm settings` (admins): the settings modal and its submission."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.app import RequestContext
from bot.forms import form_data
from bot.handlers import common
from bot.handlers.commands import Command, subcommand
from bot.i18n import language, t
from bot.services import settings as team_settings
from bot.services.errors import FieldErrors, UserError
from bot.views import ids
from bot.views.settings import settings_modal


@subcommand("settings")
def settings_(tb: RequestContext, cmd: Command, ack: Ack, client: WebClient) -> None:
    current, admins, leads = team_settings.current(session=tb.session, team_id=tb.team_id, member=tb.member())
    ack()
    view = settings_modal(
        tb.locale, current, admins=admins, leads=leads,
        hours_text=team_settings.hours_text(current.working_hours, chinese=language(tb.locale) == "zh"),
        sla_text=team_settings.sla_text(current.sla, chinese=language(tb.locale) == "zh"),
    )  # fmt: skip
    client.views_open(trigger_id=cmd.trigger_id, view=view)


def on_settings_submit(ack: Ack, view: dict[str, Any], context: dict[str, Any]) -> None:
    tb: RequestContext = context["tb"]
    try:
        data = team_settings.SettingsInput.parse(form_data(view))
        team_settings.update_settings(session=tb.session, team_id=tb.team_id, member=tb.member(), data=data,
                                      surface=tb.surface)  # fmt: skip
    except (FieldErrors, UserError) as err:
        return common.refuse(tb, ack, err, "visibility")
    ack()
    tb.notifier.dm(tb.user_id or "", text=t(tb.locale, "settings.saved"))


def register(app: Any) -> None:
    app.view(ids.SETTINGS_MODAL)(on_settings_submit)
