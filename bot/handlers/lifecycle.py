"""A customer's lifecycle: `/crm lost <customer>` (the "Mark as lost" modal), `/crm won
<customer>`, and the churn report `/crm report churn` delivers (`deliver_churn`); the stages
themselves move by services.lifecycle's rules."""

from __future__ import annotations

from bot.charts import churn_chart
from bot.context import FollowUp, RequestContext
from bot.handlers.answers import Answer, OpenModal, Replace, Reply
from bot.handlers.commands import command_word, customer_named, usage
from bot.handlers.home import refresh_home
from bot.handlers.registry import CommandInput, Registry
from bot.i18n import t
from bot.payloads import ButtonInput, FormInput, Id, Input
from bot.services import churn, lifecycle
from bot.services.lifecycle import LostInput
from bot.views import ids
from bot.views.kit import block_plain_text
from bot.views.lifecycle import churn_blocks, lost_modal, lost_text, won_text


class CustomerButton(ButtonInput):
    refusal = "error.customer.gone"
    customer_id: Id


class LostMeta(Input):
    customer_id: Id


class LostForm(FormInput):
    form: LostInput
    meta: LostMeta


def lost(rq: RequestContext, cmd: CommandInput) -> Answer:
    if not cmd.args:
        return usage(rq, "customer.usage", command=command_word(rq.locale, "lost"))
    found = customer_named(rq, cmd.args, action_id=ids.LOST_PICK, to_record=True)
    return _lost_modal(rq, found.id)


def lost_pick(rq: RequestContext, inp: CustomerButton) -> Answer:
    return _lost_modal(rq, inp.customer_id)


def _lost_modal(rq: RequestContext, customer_id: int) -> Answer:
    customer = lifecycle.losable(session=rq.session, viewer=rq.viewer, customer_id=customer_id)
    return OpenModal(lost_modal(rq.locale, customer))


def save_lost(rq: RequestContext, inp: LostForm) -> Answer:
    """"Mark as lost" saved: the author is told by DM; the owner's App Home loses its items."""
    customer = lifecycle.mark_lost(session=rq.session, viewer=rq.viewer, customer_id=inp.meta.customer_id,
                                   data=inp.form, now=rq.now, surface=rq.surface)  # fmt: skip
    rq.tell(rq.actor, lost_text(rq.locale, customer, inp.form.reason), about=[customer.id])
    refresh_home(rq, customer.owner_id)
    return None


def won(rq: RequestContext, cmd: CommandInput) -> Answer:
    if not cmd.args:
        return usage(rq, "customer.usage", command=command_word(rq.locale, "won"))
    found = customer_named(rq, cmd.args, action_id=ids.WON_PICK)
    return Reply(_won(rq, found.id))


def won_pick(rq: RequestContext, inp: CustomerButton) -> Answer:
    return Replace(_won(rq, inp.customer_id))


def _won(rq: RequestContext, customer_id: int) -> str:
    customer = lifecycle.won_back(session=rq.session, viewer=rq.viewer, customer_id=customer_id, now=rq.now,
                                  today=rq.today, surface=rq.surface)  # fmt: skip
    refresh_home(rq, customer.owner_id)
    return won_text(rq.locale, customer)


def deliver_churn(later: FollowUp, *, kind: str, csv: bool) -> None:
    """The churn report the caller may read, in their DM: the message and its chart, or the CSV."""
    report = churn.churn_report(session=later.session, viewer=later.viewer, kind=kind, today=later.today, tz=later.tz)
    locale, caller, start = later.locale, later.actor, report.current.period.first_day.isoformat()
    if csv:
        later.notifier.upload_to_dm(caller, filename=f"churn-{kind}-{start}.csv", content=churn.churn_csv(report),
                                    title=t(locale, "churn.csv.title", start=start))  # fmt: skip
        return
    blocks = churn_blocks(locale, report)
    later.notifier.dm(caller, text=block_plain_text(blocks[:1]), blocks=blocks)
    later.notifier.upload_to_dm(caller, filename=f"churn-{kind}-{start}.png", content=churn_chart(locale, report),
                                title=t(locale, "churn.chart.title", start=start))  # fmt: skip


def register(on: Registry) -> None:
    on.command("lost", lost, reads_only=True)
    on.command("won", won)
    on.action(ids.LOST_PICK, lost_pick, reads_only=True)
    on.action(ids.WON_PICK, won_pick)
    on.view(ids.LOST_MODAL, save_lost, field="reason")
