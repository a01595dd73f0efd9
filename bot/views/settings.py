"""The settings modal (admins).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.i18n import t
from bot.views.ids import SETTINGS_MODAL, VALUE
from bot.views.kit import labelled, modal, option, plain


def settings_modal(
    locale: str | None, settings: Any, *, admins: Sequence[str], leads: Sequence[str], hours_text: str, sla_text: str,
    response_text: str = "",
    rules: Any = None,
) -> dict[str, Any]:
    """`hours_text`, `sla_text` and `response_text` are the working hours, the SLA targets and
    the linked channels' response targets as editable lines; `rules` the grade suggestions'
    rules (services.health.GradeRules)."""
    vis_options = [option(t(locale, f"visibility.{v}"), v) for v in ("open", "owner")]
    visibility = {"type": "static_select", "action_id": VALUE, "options": vis_options,
                  "initial_option": vis_options[0 if settings.visibility == "open" else 1]}  # fmt: skip
    # Each language names itself too, so a reader who cannot read the other still finds theirs.
    lang_options = [option(t(locale, f"language.{v}"), v) for v in ("auto", "en", "zh")]
    language = {"type": "static_select", "action_id": VALUE, "options": lang_options,
                "initial_option": lang_options[("auto", "en", "zh").index(settings.language or "auto")]}  # fmt: skip

    survey_options = [option(t(locale, f"survey.setting.{v}"), v) for v in ("on", "off")]
    survey = {"type": "static_select", "action_id": VALUE, "options": survey_options,
              "initial_option": survey_options[0 if settings.customer_survey else 1]}  # fmt: skip

    def users(initial: Sequence[str]) -> dict[str, Any]:
        element: dict[str, Any] = {"type": "multi_users_select", "action_id": VALUE}
        if initial:
            element["initial_users"] = list(initial)
        return element

    def channel(initial: str | None) -> dict[str, Any]:
        element: dict[str, Any] = {"type": "conversations_select", "action_id": VALUE,
                                   "filter": {"include": ["public", "private"], "exclude_bot_users": True}}  # fmt: skip
        if initial:
            element["initial_conversation"] = initial
        return element

    def text(initial: str | None) -> dict[str, Any]:
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": VALUE}
        if initial:
            element["initial_value"] = initial
        return element

    def days(grade: str) -> dict[str, Any]:
        return {"type": "number_input", "action_id": VALUE, "is_decimal_allowed": False, "min_value": "1",
                "max_value": "3650", "initial_value": str(settings.revisit_days.get(grade, 30))}  # fmt: skip

    blocks = [
        labelled(locale, "visibility", "settings.visibility", visibility, optional=False),
        labelled(locale, "admins", "settings.admins", users(admins), optional=False),
        labelled(locale, "leads", "settings.leads", users(leads)),
        labelled(locale, "language", "settings.language", language, optional=False),
        labelled(locale, "tz", "settings.tz", text(settings.tz)),
        labelled(locale, "digest_time", "settings.digest_time",
                  {"type": "timepicker", "action_id": VALUE, "initial_time": settings.digest_time}),
        labelled(locale, "revisit_a", "settings.revisit_a", days("A"), optional=False),
        labelled(locale, "revisit_b", "settings.revisit_b", days("B"), optional=False),
        labelled(locale, "revisit_c", "settings.revisit_c", days("C"), optional=False),
        labelled(locale, "escalation_channel", "settings.escalation_channel", channel(settings.escalation_channel)),
        labelled(locale, "complaints_channel", "settings.complaints_channel", channel(settings.complaints_channel)),
        labelled(locale, "report_channel", "settings.report_channel", channel(settings.report_channel)),
        {**labelled(locale, "working_hours", "settings.working_hours", {**text(hours_text), "multiline": True}),
         "hint": plain(t(locale, "settings.working_hours.hint"))},
        {**labelled(locale, "holidays_country", "settings.holidays_country", text(settings.holidays_country)),
         "hint": plain(t(locale, "settings.holidays_country.hint"))},
        {**labelled(locale, "days_off", "settings.days_off",
                     {**text(", ".join(d.isoformat() for d in settings.days_off)), "multiline": True}),
         "hint": plain(t(locale, "settings.days_off.hint"))},
        {**labelled(locale, "sla", "settings.sla", {**text(sla_text), "multiline": True}),
         "hint": plain(t(locale, "settings.sla.hint"))},
        labelled(locale, "warning_percent", "settings.warning_percent",
                  {"type": "number_input", "action_id": VALUE, "is_decimal_allowed": False, "min_value": "1",
                   "max_value": "99", "initial_value": str(round(settings.sla_warning_share * 100))}, optional=False),
        labelled(locale, "level2_share", "settings.level2_share",
                  {"type": "number_input", "action_id": VALUE, "is_decimal_allowed": True, "min_value": "1",
                   "max_value": "10", "initial_value": str(settings.escalation_level2_share)}, optional=False),
        labelled(locale, "level3_share", "settings.level3_share",
                  {"type": "number_input", "action_id": VALUE, "is_decimal_allowed": True, "min_value": "1",
                   "max_value": "10", "initial_value": str(settings.escalation_level3_share)}, optional=False),
        {**labelled(locale, "response_targets", "settings.response_targets", text(response_text)),
         "hint": plain(t(locale, "settings.response_targets.hint"))},
        {**labelled(locale, "complaint_emoji", "settings.complaint_emoji", text(settings.complaint_emoji)),
         "hint": plain(t(locale, "settings.complaint_emoji.hint"))},
        {**labelled(locale, "customer_survey", "settings.customer_survey", survey, optional=False),
         "hint": plain(t(locale, "settings.customer_survey.hint"))},
        {**labelled(locale, "currency", "settings.currency", text(settings.currency)),
         "hint": plain(t(locale, "settings.currency.hint"))},
        {**labelled(locale, "grade_a_value", "settings.grade_a_value", text(_amount(rules and rules.a_value))),
         "hint": plain(t(locale, "settings.grade_value.hint"))},
        {**labelled(locale, "grade_b_value", "settings.grade_b_value", text(_amount(rules and rules.b_value))),
         "hint": plain(t(locale, "settings.grade_value.hint"))},
    ]  # fmt: skip
    return modal(SETTINGS_MODAL, t(locale, "settings.title"), blocks, locale=locale)


def _amount(value: int | None) -> str | None:
    return f"{value:,}" if value is not None else None
