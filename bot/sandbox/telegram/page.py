"""The chat page: the sandbox's Telegram, in a browser, for people instead of tests.

``GET /`` serves a Telegram-like web chat (static files in ``static/``, no CDN) so that a newcomer
can play any person of ``duties.yaml`` against the bot within a minute of ``dutybot run``: choose a
person, and their private chat with the bot opens; a second tab can be somebody else.

The page only reads and acts through the sandbox: what users send goes through the control API
(``/_sandbox/text``, ``/photo``, ``/album``, ``/document``, ``/press``), exactly as the tests
act, and the page's own JSON endpoints below only read the world:

- ``GET /_chat/state``: the bot, the people to choose from, group chats, the bot's clock;
- ``POST /_chat/open {"person_id"}``: become that person. The first time, the sandbox asks its
  ``People`` for a Telegram id; when they are not bound yet it gets an invite token back and sends
  ``/start <token>`` as that user, so the bot binds them through its own invite flow;
- ``GET /_chat/feed?chat_id&user_id&after``: one chat as the page draws it (messages with the
  bot's formatting turned into sanitised HTML, inline and reply keyboards, the command menu,
  answered callback queries). With ``after`` = the version last seen it waits (long poll, up to
  25 s) until something in the world changes, so new messages, edits and deletions appear at once.

The 电话/短信 panel: the voice calls and SMS the provider sandbox (bot/sandbox/voice) received for
the chosen person's phone, and what they do with a ringing call. The page talks to this sandbox
only; it asks the provider sandbox's control API over local HTTP (``voice_url``, set by ``dutybot
run`` when it runs both), so the two sandboxes may live in different processes:

- ``GET /_chat/phone?person_id&after``: ``{"available", "number", "version", "calls", "sms"}`` (a
  long poll like the feed, on the provider sandbox's version); ``available`` is false, with a
  ``reason``, when no provider sandbox runs (real provider keys) or the person has no ``phone``;
- ``POST /_chat/phone/decide {"person_id", "call_id", "behaviour"}``: answer a ringing call to
  that person's phone: ack (接听并按1), answer (接听不按键), no_answer (不接), busy (忙), power_off
  (关机). The provider sandbox then pushes the receipts the real service pushes.

The sandbox knows nothing of the bot's store: ``dutybot run`` hands it a ``People`` (the catalogue's
people and a way to open them, bot/cli/sandbox_mode.py). Without one (``python -m
bot.sandbox.telegram``) the page lists the private chats the sandbox knows.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

import aiohttp
from aiohttp import web

from .control import ControlError, _body, _int
from .formatting import detect_entities, entities_to_html
from .world import Chat, MessageRecord

if TYPE_CHECKING:
    from .server import Sandbox

STATIC = Path(__file__).with_name("static")
FEED_WAIT = 25.0  # seconds a feed request waits for a change before answering unchanged
FEED_LIMIT = 300  # messages per chat sent to the page (the newest)
_FILE_FIELDS = ("document", "audio", "video", "voice", "animation", "sticker", "video_note")
PHONE_DECISIONS = ("ack", "answer", "no_answer", "busy", "power_off")  # bot.sandbox.voice.BEHAVIOURS


@dataclass
class Opening:
    """How a person appears in the sandbox: their Telegram user id, and an invite token when the
    bot does not know them yet (the page then sends ``/start <token>`` as them)."""

    user_id: int
    start_token: str | None = None


class People(Protocol):
    def list(self) -> list[dict]:
        """Everyone to choose from: dicts with id, name, unit, position, office (bool), user_id (or None)."""

    async def open(self, person_id: str) -> Opening:
        """Their Telegram id; raises KeyError for an unknown person."""

    def phone(self, person_id: str) -> str | None:
        """Their phone number for the 电话/短信 panel (None: none, or an unknown person). Optional."""


class ChatPage:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        self.people: People | None = None
        self.show_clock = False  # `dutybot run --clock-start`: the page shows the bot's clock
        self.voice_url: str | None = None  # the provider sandbox (bot/sandbox/voice), for the phone panel
        self._opened: dict[str, int] = {}
        self._open_lock = asyncio.Lock()

    @property
    def world(self):
        return self.sb.world

    def forget(self) -> None:
        """After a reset: the people are strangers to the sandbox again."""
        self._opened.clear()

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/", self.index)
        router.add_static("/static/", STATIC)
        wrap = self.sb.control._wrap
        router.add_get("/_chat/state", wrap(self.state))
        router.add_post("/_chat/open", wrap(self.open))
        router.add_get("/_chat/feed", wrap(self.feed))
        router.add_get("/_chat/phone", wrap(self.phone))
        router.add_post("/_chat/phone/decide", wrap(self.phone_decide))

    async def index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "chat.html", headers={"Cache-Control": "no-cache"})

    # --- who is who ----------------------------------------------------------------------------

    def _people(self) -> list[dict]:
        if self.people is not None:
            found = self.people.list()
            for person in found:
                person["user_id"] = self._opened.get(person["id"], person.get("user_id"))
            return found
        return [{"id": str(chat.id), "name": _chat_name(chat), "unit": "", "position": "", "office": False,
                 "user_id": chat.id} for chat in self.world.chats.values() if chat.type == "private"]

    async def state(self, request: web.Request) -> dict:
        groups = [{"id": c.id, "type": c.type, "title": c.title}
                  for c in self.world.chats.values() if c.type in ("group", "supergroup")]
        return {"bot": self.world.bot_user, "people": self._people(), "groups": groups,
                "clock": self._clock(), "version": self.world.version}

    def _clock(self) -> dict | None:
        # The embedded sandbox shares the bot's process and so its shifted clock (time-machine).
        return {"now": int(time.time() * 1000)} if self.show_clock else None

    async def open(self, request: web.Request) -> dict:
        fields, _ = await _body(request)
        person_id = str(fields.get("person_id") or "")
        if self.people is None:  # a bare sandbox: the "people" are its private chats
            chat = self.world.chats.get(_int(fields, "person_id"))
            if chat is None or chat.type != "private":
                raise ControlError("no such user", status=404)
            return {"user_id": chat.id, "name": _chat_name(chat), "bound_now": False}
        person = next((p for p in self.people.list() if p["id"] == person_id), None)
        if person is None:
            raise ControlError(f"unknown person {person_id!r}", status=404)
        async with self._open_lock:  # two quick clicks or two tabs: one invite
            user_id = self._opened.get(person_id)
            start_token = None
            if user_id is None:
                opening = await self.people.open(person_id)
                user_id, start_token = opening.user_id, opening.start_token
            self.world.add_user(user_id, person["name"])
            if start_token:
                await self.sb.control.send_text({"user_id": user_id, "text": f"/start {start_token}"})
            self._opened[person_id] = user_id
        await self.world.touch()
        return {"user_id": user_id, "name": person["name"], "bound_now": bool(start_token)}

    # --- the phone panel ----------------------------------------------------------------------------

    def _number(self, person_id: str) -> tuple[str | None, str | None]:
        """(their phone number, None) or (None, why the panel has nothing to show)."""
        if not self.voice_url:
            return None, "no_voice"
        lookup = getattr(self.people, "phone", None)
        number = lookup(person_id) if lookup is not None else None
        return (number, None) if number else (None, "no_phone")

    async def _voice(self, method: str, path: str, timeout: float = 10.0, **kwargs) -> dict:
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http, \
                    http.request(method, f"{self.voice_url}{path}", **kwargs) as response:
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            raise ControlError(f"电话沙盒没有响应 / the provider sandbox did not answer: {err!r}", status=502) from None
        if not isinstance(body, dict) or not body.get("ok"):
            error = body.get("error") if isinstance(body, dict) else None
            raise ControlError(_DECIDE_ERRORS.get(response.status, error or "refused"), status=response.status)
        return body

    async def phone(self, request: web.Request) -> dict:
        person_id = request.query.get("person_id") or ""
        number, reason = self._number(person_id)
        if number is None:
            return {"available": False, "reason": reason}
        after = int(request.query.get("after") or 0)
        wait = 0.0 if self.sb.closing else min(float(request.query.get("wait") or FEED_WAIT), 60.0)
        found = await self._voice("GET", "/_sandbox/phone", timeout=wait + 10,
                                  params={"number": number, "after": after, "wait": wait})
        return {"available": True, "number": number, "version": found["version"], "calls": found["calls"],
                "sms": found["sms"]}

    async def phone_decide(self, request: web.Request) -> dict:
        fields, _ = await _body(request)
        number, reason = self._number(str(fields.get("person_id") or ""))
        if number is None:
            raise ControlError("这个人没有可用的电话 / no phone for this person" if reason == "no_phone"
                               else "电话沙盒未运行 / the provider sandbox is not running", status=404)
        behaviour = str(fields.get("behaviour") or "")
        if behaviour not in PHONE_DECISIONS:
            raise ControlError(f"behaviour: one of {', '.join(PHONE_DECISIONS)}")
        call_id = str(fields.get("call_id") or "")
        found = await self._voice("POST", f"/_sandbox/calls/{quote(call_id, safe='')}",
                                  json={"behaviour": behaviour, "number": number})
        return {"call": found["call"]}

    # --- one chat -------------------------------------------------------------------------------

    async def feed(self, request: web.Request) -> dict:
        chat_id = _int(dict(request.query), "chat_id")
        user_id = _int(dict(request.query), "user_id", 0)
        after = int(request.query.get("after") or 0)
        if after and not self.sb.closing:
            await self.world.wait_change(after, min(float(request.query.get("wait") or FEED_WAIT), 60.0))
        version = self.world.version
        chat = self.world.chats.get(chat_id)
        if chat is None:
            return {"version": version, "chat": None, "messages": [], "commands": [], "keyboard": None,
                    "answers": [], "clock": self._clock(), "activity": self._activity()}
        records = sorted(chat.messages.values(), key=lambda r: r.message_id)
        return {
            "version": version,
            "chat": {"id": chat.id, "type": chat.type, "title": chat.title or _chat_name(chat)},
            "messages": [self._message(r, user_id) for r in records[-FEED_LIMIT:]],
            "commands": self.world.commands_for(chat, user_id or None),
            "keyboard": _reply_keyboard(records),
            "answers": self._answers(user_id),
            "clock": self._clock(),
            "activity": self._activity(),
        }

    def _activity(self) -> dict[str, list[int]]:
        """The bot's latest message ids per chat a person was opened in (and per group), so the
        page can badge chats with messages nobody has looked at."""
        chats = [self.world.chats.get(uid) for uid in self._opened.values()]
        chats += [c for c in self.world.chats.values() if c.type in ("group", "supergroup")]
        return {str(c.id): [r.message_id for r in c.messages.values() if r.from_bot][-99:] for c in chats if c}

    def _answers(self, user_id: int) -> list[dict]:
        found = [entry for entry in self.world.callbacks.values()
                 if entry["answer"] is not None and entry["query"]["from"]["id"] == user_id]
        return [{"id": e["query"]["id"], "text": e["answer"].get("text"), "show_alert": e["answer"].get("show_alert")}
                for e in found[-20:]]

    def _message(self, record: MessageRecord, user_id: int) -> dict:
        data = record.data
        sender = data.get("from") or {}
        text = data.get("text") if "text" in data else data.get("caption")
        entities = data.get("entities") or data.get("caption_entities")
        if text and not entities:
            entities = detect_entities(text)  # clients link commands and URLs in plain text too
        inline = (data.get("reply_markup") or {}).get("inline_keyboard") or []
        out = {
            "id": record.message_id,
            "from_bot": record.from_bot,
            "mine": not record.from_bot and sender.get("id") == user_id,
            "sender": _user_name(sender),
            "date": data.get("date"),
            "edited": bool(data.get("edit_date")),
            "html": entities_to_html(text, entities) if text else "",
            "media_group_id": data.get("media_group_id"),
            "photo": None,
            "file": None,
            "buttons": [[{"text": b.get("text"), "data": b.get("callback_data"), "url": b.get("url")}
                         for b in row] for row in inline],
            "reply_to": None,
        }
        if data.get("photo"):
            biggest = max(data["photo"], key=lambda s: (s.get("width") or 0) * (s.get("height") or 0))
            out["photo"] = {"url": _file_url(biggest["file_id"]), "width": biggest.get("width"),
                            "height": biggest.get("height")}
        for kind in _FILE_FIELDS:
            if data.get(kind):
                f = data[kind]
                out["file"] = {"url": _file_url(f["file_id"]), "name": f.get("file_name") or kind,
                               "size": f.get("file_size"), "kind": kind}
        quoted = data.get("reply_to_message")
        if quoted:
            snippet = quoted.get("text") or quoted.get("caption") or ("[图片]" if quoted.get("photo") else "[文件]")
            out["reply_to"] = {"id": quoted.get("message_id"), "sender": _user_name(quoted.get("from") or {}),
                               "snippet": snippet[:80]}
        return out


_DECIDE_ERRORS = {404: "没有这通来电 / no such call to this phone", 409: "这通电话已经结束 / the call has ended"}


def _file_url(file_id: str) -> str:
    return f"/_sandbox/files/{file_id}"


def _user_name(user: dict) -> str:
    return " ".join(filter(None, (user.get("first_name"), user.get("last_name")))) or str(user.get("id", ""))


def _chat_name(chat: Chat) -> str:
    return chat.title or " ".join(filter(None, (chat.first_name, chat.last_name))) or str(chat.id)


def _reply_keyboard(records: list[MessageRecord]) -> dict | None:
    """The reply keyboard a client shows under the input: the bot's last one, until removed."""
    shown = None
    for record in records:
        markup = record.reply_markup or {}
        if record.from_bot and "keyboard" in markup:
            shown = {"message_id": record.message_id,
                     "rows": [[b if isinstance(b, str) else b.get("text", "") for b in row] for row in markup["keyboard"]],
                     "one_time": bool(markup.get("one_time_keyboard")),
                     "placeholder": markup.get("input_field_placeholder")}
        elif record.from_bot and markup.get("remove_keyboard"):
            shown = None
    return shown
