"""The safety office's web console (安委办工作台): aiohttp + Jinja2 + one vendored htmx.

Why these: aiohttp is already the webhook endpoint and the sandboxes' server, and its AppRunner
runs in the asyncio loop PTB runs in, so `dutybot run` serves the console with no second event
loop, thread or ASGI server; Jinja2 renders every page on the server (tables, SVG charts) so the
pages work printed, on a phone and with scripts off; htmx (vendored in static/, no CDN: intranets
are offline) only adds in-place updates (催报 a row, the live board) to forms that work without it.

Layout:
- app.py       `create_app(ctx)` and `WebServer` (AppRunner + TCPSite on WEB_LISTEN)
- context.py   typed app keys, `db(request, fn, ...)`: a store session in a worker thread
- security.py  sessions (cookie), who may open what (`@public`, `@person`, office by default),
               CSRF on every POST, the sign-in rate limit
- errors.py    404/403/400/429/500 pages; no traceback ever reaches a browser; refusals audited
- render.py    the Jinja2 environment (texts in bot/texts/web.py, filters for times and periods)
- charts.py    server-made SVG (completion bars, the 12-month trend)
- views/       one module per page area, each with `routes` (a RouteTableDef) and `NAV` entries;
               discovered like the Telegram handler modules, so a new page touches no shared file

Routes are thin: they parse the request, call a service (bot/services/*) in a thread, render.
Every page is office-only unless its handler is marked `@person` (any signed-in person; the view
itself checks the person is the owner or the office) or `@public`.
"""
