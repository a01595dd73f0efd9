"""The rules of the product. Services take keyword-only arguments, never touch the Slack SDK,
and reach people through `bot.notify.Notifier`."""
