"""The playground: try touchbase without Slack (`python -m bot play`).

The real bot runs on its own SQLite file (`playground.db`) and a page at
`http://127.0.0.1:PORT/` behaves like a Slack client for one demo workspace. Nothing in the
bot knows: the page's actions reach it as requests signed exactly as Slack signs them
(`relay`, `signer`), and its Web API calls go to a fake Slack (`fakeapi`) that keeps the
messages, views and files and hands them to the page.

    server.py    the one local port: page, fake Slack, bot; the scheduler's clock
    relay.py     what Slack's servers do with a person's action, and with the bot's answer
    signer.py    Slack's request signature
    fakeapi.py   the Web API, response URLs, trigger ids; what each person sees
    blockkit.py  Block Kit's limits, refused as Slack refuses them
    demo.py      the demo workspace: people, channels, customers, touches, complaints
    manifest.py  the slash command and shortcuts, as manifest.yml declares them
    static/      the page: index.html, app.css, app.js (the client), blockkit.js (the renderer)
"""

from bot.playground.server import play

__all__ = ["play"]
