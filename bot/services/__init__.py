"""The rules of the product. Services take keyword-only arguments; those that read or change a
customer, touch, complaint, revisit or score take the `Viewer` (services.access); they take
`now` rather than read the wall clock; they return data (views render it); they never touch the
Slack SDK and reach people only through `bot.notify` (Notifier, Directory), after the answer."""
