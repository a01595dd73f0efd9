"""Slack listeners: each one acks, parses the payload, calls one service, renders.

Every module here has `register(app)`; `register` below wires them all.
"""

from slack_bolt import App

from bot.handlers import commands, customers, reminders


def register(app: App) -> None:
    commands.register(app)
    customers.register(app)
    reminders.register(app)
