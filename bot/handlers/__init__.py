"""Slack listeners, one module per part of the product. Each listener reads typed input, calls
one service, and returns what to show (handlers.answers); `handlers.registry` registers them
and answers Slack. Every module has `register(on)`; `register` below wires them all (the
commands module last: it reads the sub-commands the others registered).
"""

from bot.handlers import (
    channels,
    commands,
    complaints,
    customers,
    datacare,
    followups,
    home,
    lifecycle,
    reports,
    revisits,
    settings,
    surveys,
    touches,
    workspaces,
)
from bot.handlers.registry import Registry


def register(on: Registry, *, many_workspaces: bool = False) -> None:
    for module in (customers, touches, revisits, followups, home, complaints, datacare, settings, reports, lifecycle,
                   channels, surveys, commands):  # fmt: skip
        module.register(on)
    if many_workspaces:  # uninstalls are ours to act on only when we installed (bot.oauth)
        workspaces.register(on)
    on.mount()
