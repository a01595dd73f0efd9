"""Slack listeners: each one acks, parses the payload, calls one service, renders.

Every module here has `register(app)`; `register` below wires them all.
"""

from slack_bolt import App

from bot.handlers import (
    commands,
    complaints,
    customers,
    datacare,
    reminders,
    reports,
    settings,
    touches,
)


def register(app: App) -> None:
    commands.register(app)
    customers.register(app)
    touches.register(app)
    complaints.register(app)
    reminders.register(app)
    datacare.register(app)
    settings.register(app)
    reports.register(app)
