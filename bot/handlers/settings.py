"""`/crm settings` (admins): the settings modal and its submission."""

from __future__ import annotations

from bot.context import RequestContext
from bot.handlers.answers import Answer, OpenModal
from bot.handlers.registry import CommandInput, Registry
from bot.i18n import language, t
from bot.payloads import FormInput
from bot.services.settings import (
    SettingsInput,
    current,
    hours_text,
    response_text,
    sla_text,
    update_settings,
)
from bot.views import ids
from bot.views.settings import settings_modal


class SettingsForm(FormInput):
    form: SettingsInput
    meta: dict[str, object] = {}


def open_settings(rq: RequestContext, cmd: CommandInput) -> Answer:
    team, admins, leads, rules = current(session=rq.session, viewer=rq.viewer)
    chinese = language(rq.locale) == "zh"
    return OpenModal(settings_modal(
        rq.locale, team, admins=admins, leads=leads, rules=rules,
        hours_text=hours_text(team.working_hours, chinese=chinese),
        sla_text=sla_text(team.sla, chinese=chinese),
        response_text=response_text(team.response_targets, chinese=chinese),
    ))  # fmt: skip


def save(rq: RequestContext, inp: SettingsForm) -> Answer:
    update_settings(session=rq.session, viewer=rq.viewer, data=inp.form, surface=rq.surface)
    chosen = None if inp.form.language == "auto" else inp.form.language  # the language just saved
    rq.tell(rq.actor, t(chosen or rq.member().locale, "settings.saved"), about=())
    return None


def register(on: Registry) -> None:
    on.command("settings", open_settings, reads_only=True)
    on.view(ids.SETTINGS_MODAL, save, field="visibility")
