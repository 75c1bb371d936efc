"""The phone worker: places the queued 叫应 calls and texts through the provider, and serves the
provider's receipts and the SMS 收到 link over HTTP (PHONE_LISTEN).

    POST /phone/receipts/<PHONE_SECRET>   a JSON array of receipts (VoiceReport, VoiceCallReport,
                                          SmsReport); answered {"code": 0, "msg": "成功"}
    GET  /c/<token>                       the SMS link: a page with one 收到 button
    POST /c/<token>                       收到 (channel "sms")

The receipt address carries the secret because the provider's HTTP push is not signed; a wrong
secret gets 403 and is audited. Receipts are applied by bot/services/callouts/contacts.py: unknown
ids and repeated receipts change nothing. After an answer the callout worker is woken (`on_answer`)
so the board, the follow-up and the release go out at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import logging
from collections.abc import Callable

from aiohttp import web

from bot import clock
from bot.config import Settings
from bot.phone.aliyun import AliyunClient, AliyunConfig, ProviderError
from bot.services.callouts import contacts
from bot.store import Store
from bot.store.models import AuditLog, Callout, CalloutTarget, Person
from bot.texts import callouts as T
from bot.texts import fmt

log = logging.getLogger(__name__)

POLL = 0.5
PARALLEL = 50  # calls placed at once (the provider allows 100 requests a second)


def aliyun_config(settings: Settings) -> AliyunConfig:
    return AliyunConfig(
        access_key_id=settings.aliyun_access_key_id, access_key_secret=settings.aliyun_access_key_secret,
        voice_endpoint=settings.aliyun_voice_endpoint, sms_endpoint=settings.aliyun_sms_endpoint,
        caller_number=settings.phone_caller_number, call_template=settings.phone_call_template,
        ack_template=settings.phone_ack_template, notice_template=settings.phone_notice_template,
        sms_sign=settings.sms_sign_name, sms_template=settings.sms_template,
        sms_notice_template=settings.sms_notice_template, timeout=settings.phone_timeout)


class PhoneWorker:
    def __init__(self, store: Store, settings: Settings, *, on_answer: Callable[[], None] | None = None,
                 client: AliyunClient | None = None):
        self.store = store
        self.settings = settings
        self.client = client or AliyunClient(aliyun_config(settings))
        self.on_answer = on_answer or (lambda: None)
        self.url = ""  # where the HTTP endpoint listens, once started
        self._wake = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._slots = asyncio.Semaphore(PARALLEL)

    @property
    def secret(self) -> str:
        return self.settings.phone_secret

    @property
    def receipt_url(self) -> str:
        return f"{self.url}/phone/receipts/{self.secret}"

    def wake(self) -> None:
        self._wake.set()

    # --- HTTP ---------------------------------------------------------------------------------------
    async def start_http(self) -> None:
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_post("/phone/receipts/{secret}", self._receipts)
        app.router.add_get("/c/{token}", self._link_page)
        app.router.add_post("/c/{token}", self._link_ack)
        host, _, port = self.settings.phone_listen.rpartition(":")
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host or "0.0.0.0", int(port or 0))
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{'127.0.0.1' if host in ('', '0.0.0.0') else host}:{bound}"

    async def stop_http(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _audit(self, action: str, detail: dict) -> None:
        with self.store.session() as s:
            s.add(AuditLog(at=clock.now(), action=action, detail=detail))

    async def _receipts(self, request: web.Request) -> web.Response:
        if not self.secret or not hmac.compare_digest(request.match_info["secret"], self.secret):
            await asyncio.to_thread(self._audit, "phone.receipt.refused", {"peer": request.remote or ""})
            return web.json_response({"code": 403, "msg": "forbidden"}, status=403)
        try:
            items = await request.json()
        except ValueError:
            return web.json_response({"code": 400, "msg": "JSON array expected"}, status=400)
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            return web.json_response({"code": 400, "msg": "JSON array expected"}, status=400)
        answered = await asyncio.to_thread(self._apply, items)
        if answered:
            self.on_answer()
        return web.json_response({"code": 0, "msg": "成功"})

    def _apply(self, items: list) -> int:
        answered = 0
        for item in items:
            with self.store.session() as s:  # one receipt, one transaction: a bad one spoils no other
                result = contacts.apply_receipt(s, item, clock.now())
            if result.status in ("acked", "updated"):  # the timeline may have a step to take now
                answered += 1
            elif result.status in ("unknown", "bad"):
                log.info("phone receipt ignored (%s): %s", result.status, str(item)[:200])
        return answered

    def _link_view(self, token: str) -> tuple[str, str]:
        """The link page's text and what it offers: "ask" (the 收到 button), "done" or "bad"."""
        with self.store.session() as s:
            row = contacts.contact_of_link(s, token, self.secret)
            if row is None:
                return T.SMS_LINK_BAD, "bad"
            target = s.get(CalloutTarget, row.target_id)
            callout = s.get(Callout, row.callout_id)
            person = s.get(Person, row.person_id)
            if target is not None and target.acked_at is not None:
                return T.SMS_LINK_AGAIN.format(clock=fmt.clock(target.acked_at)), "done"
            return T.SMS_LINK_ASK.format(level=T.LEVEL_NAMES.get(callout.level, callout.level), hazard=callout.hazard,
                                         cid=callout.id, name=person.name if person else ""), "ask"

    async def _link_page(self, request: web.Request) -> web.Response:
        text, offer = await asyncio.to_thread(self._link_view, request.match_info["token"])
        button = (f'<form method="post"><button type="submit" style="font-size:2em">{T.SMS_LINK_BUTTON}</button></form>'
                  if offer == "ask" else "")
        return _page(html.escape(text) + button, 404 if offer == "bad" else 200)

    async def _link_ack(self, request: web.Request) -> web.Response:
        def work():
            with self.store.session() as s:
                return contacts.ack_by_link(s, request.match_info["token"], self.secret, clock.now())

        result = await asyncio.to_thread(work)
        if result is None:
            return _page(html.escape(T.SMS_LINK_BAD), 404)
        self.on_answer()
        at = result.target.acked_at if result.target is not None else clock.now()
        text = T.SMS_LINK_DONE if result.status == "acked" else T.SMS_LINK_AGAIN
        return _page(html.escape(text.format(clock=fmt.clock(at))))

    # --- placing calls ------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        tasks: set[asyncio.Task] = set()
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    rows = await asyncio.to_thread(self._claim)
                except Exception:
                    log.exception("claiming phone contacts failed")
                    rows = []
                for row in rows:
                    await self._slots.acquire()
                    task = asyncio.create_task(self._place(row))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                if rows:
                    continue
                waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
                try:
                    await asyncio.wait(waiters, timeout=POLL, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for w in waiters:
                        w.cancel()
        finally:
            if tasks:
                await asyncio.wait(tasks, timeout=10)

    def _claim(self) -> list[dict]:
        with self.store.session() as s:
            rows = contacts.claim(s, clock.now(), limit=PARALLEL)
            return [{"id": r.id, "channel": r.channel, "purpose": r.purpose, "phone": r.phone,
                     "params": dict(r.params or {})} for r in rows]

    async def _place(self, row: dict) -> None:
        try:
            params = {k: v for k, v in row["params"].items() if k != "body"}  # body: for the record only
            if row["channel"] == "voice":
                if row["purpose"] == "call":
                    provider_id = await self.client.ivr_call(row["phone"], params, str(row["id"]))
                else:
                    provider_id = await self.client.tts_call(row["phone"], params, str(row["id"]))
            else:
                if row["purpose"] == "call" and self.settings.public_url:
                    params["link"] = f"{self.settings.public_url.rstrip('/')}/c/{contacts.link_token(row['id'], self.secret)}"
                provider_id = await self.client.send_sms(row["phone"], params, str(row["id"]),
                                                         notice=row["purpose"] != "call")
        except ProviderError as err:
            log.warning("phone contact %s failed: %s", row["id"], err)
            await asyncio.to_thread(self._record, row["id"], None, str(err))
            self.on_answer()  # the timeline falls back to its next step now
        except Exception as err:  # a bug: keep the attempt in the record all the same
            log.exception("phone contact %s failed", row["id"])
            await asyncio.to_thread(self._record, row["id"], None, f"{type(err).__name__}: {err}")
            self.on_answer()
        else:
            await asyncio.to_thread(self._record, row["id"], provider_id, "")
        finally:
            self._slots.release()

    def _record(self, contact_id: int, provider_id: str | None, error: str) -> None:
        with self.store.session() as s:
            if provider_id is not None:
                contacts.placed(s, contact_id, provider_id, clock.now())
            else:
                contacts.failed(s, contact_id, error, clock.now())


def _page(body: str, status: int = 200) -> web.Response:
    return web.Response(status=status, content_type="text/html", charset="utf-8", text=(
        '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{T.SMS_LINK_TITLE}</title></head><body style=\"font-family:sans-serif;padding:1em\">"
        f"<h1>{T.SMS_LINK_TITLE}</h1><p>{body}</p></body></html>"))


async def phone_worker(settings: Settings, store: Store, stop: asyncio.Event, *,
                       on_answer: Callable[[], None], started: Callable[[PhoneWorker], None] | None = None) -> None:
    """Run the worker and its HTTP endpoint until `stop` (nothing when no provider is configured)."""
    if not settings.phone_enabled:
        await stop.wait()
        return
    worker = PhoneWorker(store, settings, on_answer=on_answer)
    await worker.start_http()
    if started is not None:
        started(worker)
    try:
        await worker.run(stop)
    finally:
        with contextlib.suppress(Exception):
            await worker.client.aclose()
        await worker.stop_http()
