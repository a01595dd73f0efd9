"""Admins' data tools: `/crm audit`, `/crm export`, `/crm erase` (asked first, naming the
customer) and `/crm merge` (asked first)."""

from __future__ import annotations

from bot.context import FollowUp, RequestContext
from bot.handlers.answers import Answer, Replace, Reply
from bot.handlers.commands import command_word, customer_named, usage
from bot.handlers.inputs import CustomerButton, CustomerPage
from bot.handlers.registry import CommandInput, Registry
from bot.i18n import t
from bot.payloads import ButtonInput, Id
from bot.services import customers, datacare
from bot.services.access import require_admin
from bot.storage.db import purge_freed_pages
from bot.views import ids
from bot.views.datacare import audit_answer, erase_confirmation, merge_confirmation
from bot.views.kit import customer_title, escape


class MergePair(ButtonInput):
    refusal = "error.customer.gone"
    source: Id
    target: Id


def _admin_named(rq: RequestContext, cmd: CommandInput, action_id: str) -> int | Answer:
    require_admin(rq.viewer)
    if not cmd.args:
        return usage(rq, "customer.usage", command=command_word(rq.locale, cmd.word))
    return customer_named(rq, cmd.args, action_id=action_id).id


def audit(rq: RequestContext, cmd: CommandInput) -> Answer:
    found = _admin_named(rq, cmd, ids.AUDIT_MORE)
    if not isinstance(found, int):
        return found
    return _audit(rq, found, 0, Reply)


def audit_more(rq: RequestContext, inp: CustomerPage) -> Answer:
    return _audit(rq, inp.customer_id, inp.offset, Reply)


def _audit(rq: RequestContext, customer_id: int, offset: int, answer: type[Reply]) -> Answer:
    customer, rows, more = datacare.audit_page(session=rq.session, viewer=rq.viewer, customer_id=customer_id,
                                               offset=offset)  # fmt: skip
    return answer(*audit_answer(rq.locale, customer, rows, more=more, offset=offset, tz=rq.tz))


def export(rq: RequestContext, cmd: CommandInput) -> Answer:
    """The customers as CSV, or one customer as JSON, to the admin's DM (after the answer)."""
    require_admin(rq.viewer)
    if not cmd.args:
        content, name = datacare.customers_csv(session=rq.session, viewer=rq.viewer, surface=rq.surface), "customers.csv"
    else:
        customer = customer_named(rq, cmd.args, action_id=ids.CUSTOMER_SHOW)
        content = datacare.export_customer(session=rq.session, viewer=rq.viewer, customer_id=customer.id,
                                           surface=rq.surface, now=rq.now)  # fmt: skip
        name = f"customer-{customer.number}.json"
    admin = rq.actor

    def send(later: FollowUp) -> None:
        later.notifier.upload_to_dm(admin, filename=name, content=content, title=name)

    rq.after(send)
    return Reply(t(rq.locale, "export.sent", name=name))


def erase(rq: RequestContext, cmd: CommandInput) -> Answer:
    found = _admin_named(rq, cmd, ids.CUSTOMER_SHOW)
    if not isinstance(found, int):
        return found
    customer = customers.get_customer(session=rq.session, viewer=rq.viewer, customer_id=found)
    return Reply(*erase_confirmation(rq.locale, customer))


def erase_confirmed(rq: RequestContext, inp: CustomerButton) -> Answer:
    customer = datacare.erase_customer(session=rq.session, viewer=rq.viewer, customer_id=inp.customer_id,
                                       surface=rq.surface, locale=rq.locale)  # fmt: skip
    number = customer.number

    def purge(later: FollowUp) -> None:  # once the erase has committed
        purge_freed_pages(later.session.get_bind())

    rq.after(purge)
    return Replace(t(rq.locale, "erase.done", number=number))


def merge(rq: RequestContext, cmd: CommandInput) -> Answer:
    source, target = customers.merge_pair(session=rq.session, viewer=rq.viewer, text=cmd.args)
    return Reply(*merge_confirmation(rq.locale, source, target))


def merge_confirmed(rq: RequestContext, inp: MergePair) -> Answer:
    target = customers.merge_customers(session=rq.session, viewer=rq.viewer, source_id=inp.source,
                                       target_id=inp.target, surface=rq.surface)  # fmt: skip
    return Replace(t(rq.locale, "merge.done", target=escape(customer_title(target))))


def register(on: Registry) -> None:
    on.command("audit", audit, reads_only=True)
    on.command("export", export)
    on.command("erase", erase, reads_only=True)
    on.command("merge", merge, reads_only=True)
    on.action(ids.AUDIT_MORE, audit_more, reads_only=True)
    on.action(ids.CUSTOMER_ERASE, erase_confirmed)
    on.action(ids.CUSTOMER_MERGE, merge_confirmed)
