"""`/crm settings` (admins): the settings modal and its submission."""

from __future__ import annotations

from bot.context import FollowUp, RequestContext
from bot.handlers.answers import Answer, OpenModal
from bot.handlers.registry import CommandInput, Registry
from bot.i18n import language, t
from bot.payloads import FormInput
from bot.services import settings as team_settings
from bot.services.settings import SettingsInput
from bot.views import ids
from bot.views.settings import settings_modal


class SettingsForm(FormInput):
    form: SettingsInput
    meta: dict[str, object] = {}


def open_settings(rq: RequestContext, cmd: CommandInput) -> Answer:
    current, admins, leads = team_settings.current(session=rq.session, viewer=rq.viewer)
    chinese = language(rq.locale) == "zh"
    return OpenModal(settings_modal(
        rq.locale, current, admins=admins, leads=leads,
        hours_text=team_settings.hours_text(current.working_hours, chinese=chinese),
        sla_text=team_settings.sla_text(current.sla, chinese=chinese),
    ))  # fmt: skip


def save(rq: RequestContext, inp: SettingsForm) -> Answer:
    team_settings.update_settings(session=rq.session, viewer=rq.viewer, data=inp.form, surface=rq.surface)
    admin = rq.actor

    def tell(later: FollowUp) -> None:
        later.notifier.dm(admin, text=t(later.locale, "settings.saved"))

    rq.after(tell)
    return None


def register(on: Registry) -> None:
    on.command("settings", open_settings, reads_only=True)
    on.view(ids.SETTINGS_MODAL, save, field="visibility")
