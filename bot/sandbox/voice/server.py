"""The provider sandbox's server (see the package docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import httpx
from aiohttp import web

from bot.phone import signing

log = logging.getLogger(__name__)

BEHAVIOURS = ("ack", "answer", "no_answer", "busy", "power_off")
RING = "ring"  # a number (or the default) set to ring: the call waits for `decide` (a test, the chat page)
WAIT_LIMIT = 60.0  # longest long poll of GET /_sandbox/phone
# What the real service reports at the end of a call, per behaviour (呼叫状态码).
END_STATUS = {"ack": "200000", "answer": "200008", "no_answer": "200003", "busy": "200002", "power_off": "200010"}
CST = timezone(timedelta(hours=8))


def _stamp() -> str:
    return datetime.now(CST).strftime("%Y-%m-%d %H:%M:%S")


def _json(body: dict | list, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")


class VoiceSandbox:
    def __init__(self, keys: dict[str, str] | None = None, *, default: str = "ack", receipt_delay: float = 0.05,
                 hang_seconds: float = 30.0, ring_seconds: float = 60.0):
        if default not in (*BEHAVIOURS, RING):
            raise ValueError(f"default must be one of {(*BEHAVIOURS, RING)}")
        self.keys = dict(keys or {"sandbox-key": "sandbox-secret"})
        self.default = default
        self.ring_seconds = ring_seconds  # a ringing call nobody decides ends unanswered after this long
        self.receipt_delay = receipt_delay
        self.hang_seconds = hang_seconds  # how long a "timeout" outage keeps a request waiting
        self.receipt_url: str | None = None
        self.outage: str | None = None  # None | "5xx" | "timeout"
        self.numbers: dict[str, str] = {}
        self.calls: list[dict] = []
        self.sms: list[dict] = []
        self.refused: list[dict] = []  # requests refused (bad signature, unknown action…)
        self.receipts_sent: list[dict] = []
        self._nonces: set[str] = set()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task] = set()
        self._changed = asyncio.Event()
        self.version = 0  # bumps on every change; GET /_sandbox/phone waits for it to move
        self._moved = asyncio.Event()
        self.url = ""

    # --- life cycle -------------------------------------------------------------------------------
    @property
    def voice_endpoint(self) -> str:
        return f"{self.url}/dyvms/"

    @property
    def sms_endpoint(self) -> str:
        return f"{self.url}/dysms/"

    @property
    def access_key(self) -> tuple[str, str]:
        return next(iter(self.keys.items()))

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> VoiceSandbox:
        app = web.Application()
        app.router.add_route("*", "/dyvms/", self._voice)
        app.router.add_route("*", "/dysms/", self._sms)
        app.router.add_get("/_sandbox/calls", self._control_calls)
        app.router.add_get("/_sandbox/sms", self._control_sms)
        app.router.add_post("/_sandbox/numbers", self._control_number)
        app.router.add_get("/_sandbox/phone", self._control_phone)
        app.router.add_post("/_sandbox/calls/{call_id}", self._control_decide)
        app.router.add_post("/_sandbox/outage", self._control_outage)
        app.router.add_post("/_sandbox/receipt_url", self._control_receipt_url)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sock = site._server.sockets[0]  # type: ignore[union-attr]
        self.url = f"http://{host}:{sock.getsockname()[1]}"
        self._client = httpx.AsyncClient(timeout=5.0)
        return self

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            await self._client.aclose()

    # --- what tests use ---------------------------------------------------------------------------
    def set_number(self, number: str, behaviour: str) -> None:
        """How calls to `number` go: one of BEHAVIOURS at once, or RING (wait for `decide`)."""
        if behaviour not in (*BEHAVIOURS, RING):
            raise ValueError(f"behaviour must be one of {(*BEHAVIOURS, RING)}")
        self.numbers[number] = behaviour

    def decide(self, call_id: str, behaviour: str, by: str = "person") -> dict:
        """End a ringing call as `behaviour` (what the person did) and push its receipts. KeyError:
        no such call; ValueError: not one of BEHAVIOURS, or the call is no longer ringing."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {BEHAVIOURS}")
        call = next((c for c in self.calls if c["call_id"] == call_id), None)
        if call is None:
            raise KeyError(call_id)
        if call["state"] != "ringing":
            raise ValueError(f"call {call_id} is no longer ringing ({call['behaviour']})")
        self._settle(call, behaviour, by)
        return call

    def ringing(self, number: str | None = None) -> list[dict]:
        return [c for c in self.calls if c["state"] == "ringing" and (number is None or c["number"] == number)]

    def _settle(self, call: dict, behaviour: str, by: str) -> None:
        if call["action"] != "IvrCall" and behaviour == "ack":
            behaviour = "answer"  # a notice call takes no key
        call.update(state="ended", behaviour=behaviour, decided_by=by, ended_at=datetime.now(UTC).isoformat(),
                    heard=call["params"].get("text", "") if behaviour in ("ack", "answer") else "")
        self._touch()
        self._later(self._call_receipts(call["call_id"], call["number"], call["request"], behaviour))

    async def _ring_out(self, call: dict) -> None:
        await asyncio.sleep(self.ring_seconds)
        if call["state"] == "ringing":  # nobody picked up: the network ends the call unanswered
            self._settle(call, "no_answer", "timeout")

    async def wait_change(self, after: int, timeout: float) -> None:
        """Until `version` moves past `after` (at most `timeout` seconds)."""
        if self.version != after:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._moved.wait(), timeout)

    def calls_to(self, number: str) -> list[dict]:
        return [c for c in self.calls if c["number"] == number]

    def sms_to(self, number: str) -> list[dict]:
        return [m for m in self.sms if m["number"] == number]

    async def wait_for(self, condition: Callable[[], object], timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the provider sandbox did not get there in time")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))

    def _touch(self) -> None:
        self._changed.set()
        self.version += 1
        self._moved.set()
        self._moved = asyncio.Event()

    # --- the API ----------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, str]:
        params = dict(request.query)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.post()).items()})
        return params

    def _check(self, request: web.Request, params: dict[str, str]) -> web.Response | None:
        secret = self.keys.get(params.get("AccessKeyId", ""))
        if secret is None:
            return self._refuse(params, 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        if not signing.verify(secret, request.method, params):
            return self._refuse(params, 400, "SignatureDoesNotMatch",
                                "Specified signature is not matched with our calculation.")
        nonce = params.get("SignatureNonce", "")
        if not nonce or nonce in self._nonces:
            return self._refuse(params, 400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        self._nonces.add(nonce)
        return None

    def _refuse(self, params: dict, status: int, code: str, message: str) -> web.Response:
        self.refused.append({"action": params.get("Action"), "code": code})
        self._touch()
        return _json({"Code": code, "Message": message, "RequestId": f"sandbox-{next(self._ids)}"}, status)

    async def _outage(self) -> web.Response | None:
        if self.outage == "5xx":
            return _json({"Code": "ServiceUnavailable", "Message": "The request has failed due to a temporary "
                                                                   "failure of the server."}, 503)
        if self.outage == "timeout":
            await asyncio.sleep(self.hang_seconds)
            return _json({"Code": "ServiceUnavailable", "Message": "late"}, 503)
        return None

    async def _accept(self, request: web.Request) -> tuple[dict[str, str], web.Response | None]:
        """The request's parameters, or the answer refusing it (bad signature, an outage)."""
        params = await self._params(request)
        refused = self._check(request, params)  # (a Response is falsy: it is an empty mapping)
        return params, refused if refused is not None else await self._outage()

    async def _voice(self, request: web.Request) -> web.Response:
        params, refused = await self._accept(request)
        if refused is not None:
            return refused
        action = params.get("Action")
        if action not in ("IvrCall", "SingleCallByTts"):
            return self._refuse(params, 400, "InvalidAction.NotFound", f"Specified api {action} is not found.")
        number = params.get("CalledNumber", "")
        if not number:
            return self._refuse(params, 400, "isv.MOBILE_NUMBER_ILLEGAL", "CalledNumber is mandatory.")
        tts = params.get("StartTtsParams") if action == "IvrCall" else params.get("TtsParam")
        try:
            tts_params = json.loads(tts or "{}")
        except ValueError:
            return self._refuse(params, 400, "isv.INVALID_PARAMETERS", "TtsParam is not JSON.")
        call_id = f"{next(self._ids):012d}^{int(time.time() * 1000)}"
        call = {"call_id": call_id, "action": action, "number": number, "params": tts_params,
                "out_id": params.get("OutId", ""), "caller": params.get("CalledShowNumber", ""),
                "state": "ringing", "behaviour": None, "decided_by": None, "at": datetime.now(UTC).isoformat(),
                "ended_at": None, "heard": "", "request": params}
        self.calls.append(call)
        behaviour = self.numbers.get(number, self.default)
        if behaviour == RING:
            self._touch()
            self._later(self._ring_out(call))
        else:
            self._settle(call, behaviour, "rule")
        return _json({"Code": "OK", "Message": "OK", "RequestId": f"sandbox-{call_id}", "CallId": call_id})

    async def _sms(self, request: web.Request) -> web.Response:
        params, refused = await self._accept(request)
        if refused is not None:
            return refused
        if params.get("Action") != "SendSms":
            return self._refuse(params, 400, "InvalidAction.NotFound", f"Specified api {params.get('Action')} is not found.")
        number = params.get("PhoneNumbers", "")
        try:
            template_params = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return self._refuse(params, 400, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        biz_id = f"{next(self._ids)}^{int(time.time() * 1000)}"
        delivered = self.numbers.get(number, self.default) != "power_off"
        self.sms.append({"biz_id": biz_id, "number": number, "params": template_params, "sign": params.get("SignName"),
                         "template": params.get("TemplateCode"), "out_id": params.get("OutId", ""),
                         "delivered": delivered, "at": datetime.now(UTC).isoformat()})
        self._touch()
        self._later(self._push([{
            "phone_number": number, "send_time": _stamp(), "report_time": _stamp(), "success": delivered,
            "err_code": "DELIVERED" if delivered else "MOBILE_NOT_ON_SERVICE",
            "err_msg": "用户接收成功" if delivered else "关机或停机", "sms_size": "1", "biz_id": biz_id,
            "out_id": params.get("OutId", "")}]))
        return _json({"Code": "OK", "Message": "OK", "RequestId": f"sandbox-{biz_id}", "BizId": biz_id})

    # --- receipts ---------------------------------------------------------------------------------
    def _later(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _call_receipts(self, call_id: str, number: str, params: dict, behaviour: str) -> None:
        out_id = params.get("OutId", "")
        answered = behaviour in ("ack", "answer")
        if behaviour == "ack":  # the key press, while the call goes on
            await self._push([{"call_id": call_id, "status_code": "300000", "smart_status_code": "ANSWERED",
                               "dtmf": "1", "status_time": _stamp(), "out_id": out_id}])
        await self._push([{
            "call_id": call_id, "caller": params.get("CalledShowNumber", ""), "callee": number,
            "originate_time": _stamp(), "start_time": _stamp() if answered else "", "end_time": _stamp(),
            "duration": "20" if answered else "0", "status_code": END_STATUS[behaviour],
            "dtmf": "1" if behaviour == "ack" else "", "hangup_direction": "用户", "status_msg": behaviour,
            "out_id": out_id, "voice_type": "voice", "toll_type": "LOCAL"}])

    async def _push(self, items: list[dict], tries: int = 4) -> None:
        await asyncio.sleep(self.receipt_delay)
        for attempt in range(tries):
            url = self.receipt_url
            if url:
                try:
                    response = await self._client.post(url, json=items)
                    if response.status_code == 200:
                        self.receipts_sent.extend(items)
                        self._touch()
                        return
                except httpx.HTTPError:
                    pass
            await asyncio.sleep(0.2 * 2 ** attempt)
        log.warning("provider sandbox: receipt not accepted: %s", items)

    # --- control ----------------------------------------------------------------------------------
    async def _control_calls(self, request: web.Request) -> web.Response:
        return _json([_public(c) for c in self.calls])

    async def _control_sms(self, request: web.Request) -> web.Response:
        return _json(self.sms)

    async def _control_number(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            self.set_number(str(body["number"]), str(body["behaviour"]))
        except (KeyError, ValueError) as err:
            return _json({"ok": False, "error": str(err)}, 400)
        return _json({"ok": True})

    async def _control_phone(self, request: web.Request) -> web.Response:
        """One phone as a person sees it: ?number=…&after=<version>&wait=<s> waits (long poll) until
        something changed after `version`, then answers its calls and texts, oldest first."""
        number = request.query.get("number", "")
        if not number:
            return _json({"ok": False, "error": "number is required"}, 400)
        try:
            after = int(request.query.get("after") or 0)
            wait = min(float(request.query.get("wait") or 25.0), WAIT_LIMIT)
        except ValueError:
            return _json({"ok": False, "error": "after and wait are numbers"}, 400)
        if after:
            await self.wait_change(after, wait)
        return _json({"ok": True, "version": self.version, "number": number,
                      "rule": self.numbers.get(number, self.default),
                      "calls": [_public(c) for c in self.calls_to(number)], "sms": self.sms_to(number)})

    async def _control_decide(self, request: web.Request) -> web.Response:
        """POST /_sandbox/calls/{call_id} {"behaviour", "number"?}: what the person did with a ringing
        call (`number`, when given, must be the called number: the page decides its own calls only)."""
        try:
            body = await request.json()
        except ValueError:
            return _json({"ok": False, "error": "a JSON body is required"}, 400)
        call_id = request.match_info["call_id"]
        call = next((c for c in self.calls if c["call_id"] == call_id), None)
        if call is None or (body.get("number") and body["number"] != call["number"]):
            return _json({"ok": False, "error": f"no call {call_id} to that number"}, 404)
        try:
            self.decide(call_id, str(body.get("behaviour")))
        except ValueError as err:
            status = 409 if call["state"] != "ringing" else 400
            return _json({"ok": False, "error": str(err)}, status)
        return _json({"ok": True, "call": _public(call)})

    async def _control_outage(self, request: web.Request) -> web.Response:
        mode = (await request.json()).get("mode")
        if mode not in (None, "5xx", "timeout"):
            return _json({"ok": False, "error": "mode: null, 5xx or timeout"}, 400)
        self.outage = mode
        return _json({"ok": True})

    async def _control_receipt_url(self, request: web.Request) -> web.Response:
        self.receipt_url = (await request.json()).get("url")
        return _json({"ok": True})


def _public(call: dict) -> dict:
    """A call as the control API shows it (without the provider request it came from)."""
    return {k: v for k, v in call.items() if k != "request"}
