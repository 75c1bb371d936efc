"""Sandboxes: local stand-ins for the outside services dutybot talks to.

Telegram and the voice/SMS providers are unreachable from tests, demos, benchmarks and offline
intranets, so each has a small real HTTP server here that speaks its API and keeps what it was
told in memory, plus a control API to act as the people on the other side:

- ``bot.sandbox.telegram``: the Telegram Bot API (unmodified python-telegram-bot talks to it) and
  the browser chat page ``dutybot run`` serves when there is no BOT_TOKEN;
- ``bot.sandbox.voice``: the voice-call/SMS provider of 叫应 escalations (added by the 叫应 work).

They sit beside the adapters (``bot.telegram``, ``bot.web``, ``bot.cli``), not inside them: the
adapters must work unchanged against the real service, and nothing in the product imports a
sandbox except the CLI (`dutybot run` without a token, `dutybot demo`).
"""
