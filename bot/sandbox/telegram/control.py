"""The control API under /_sandbox: act as Telegram users, read what the bot did, steer faults
and limits. JSON in and out; uploads as multipart/form-data."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .faults import Fault
from .files import photo_ladder
from .formatting import detect_entities
from .limits import Limits
from .world import Chat, MessageRecord, now_ts

if TYPE_CHECKING:
    from .server import Sandbox


class ControlError(Exception):
    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.status = status


def _ok(body: Any) -> web.Response:
    return web.json_response({"ok": True, "result": body}, dumps=lambda o: json.dumps(o, ensure_ascii=False))


async def _body(request: web.Request) -> tuple[dict, dict[str, list[tuple[bytes, str | None, str | None]]]]:
    """JSON fields, or multipart fields plus files (name -> [(bytes, filename, content type)])."""
    if request.content_type == "multipart/form-data":
        fields: dict[str, Any] = {}
        files: dict[str, list] = {}
        async for part in await request.multipart():
            if part.filename is not None:
                data = bytes(await part.read(decode=False))
                files.setdefault(part.name, []).append((data, part.filename, part.headers.get("Content-Type")))
            else:
                fields[part.name] = await part.text()
        return fields, files
    if request.can_read_body:
        try:
            body = await request.json()
        except ValueError:
            raise ControlError("the body must be JSON") from None
        if not isinstance(body, dict):
            raise ControlError("the body must be a JSON object")
        return body, {}
    return dict(request.query), {}


def _int(fields: dict, name: str, default: int | None = None) -> int | None:
    value = fields.get(name)
    if value is None or value == "":
        if default is None:
            raise ControlError(f"{name} is required")
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(f"{name} must be an integer") from None


class ControlApi:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox

    @property
    def world(self):
        return self.sb.world

    def add_routes(self, router: web.UrlDispatcher, prefix: str) -> None:
        routes = [
            ("GET", "/info", self.info),
            ("POST", "/users", self.users),
            ("POST", "/groups", self.groups),
            ("POST", "/settings", self.settings),
            ("POST", "/block", self.block),
            ("POST", "/text", self.text),
            ("POST", "/photo", self.photo),
            ("POST", "/album", self.album),
            ("POST", "/document", self.document),
            ("POST", "/update", self.raw_update),
            ("POST", "/redeliver", self.redeliver),
            ("POST", "/press", self.press),
            ("GET", "/messages", self.messages),
            ("GET", "/callbacks", self.callbacks),
            ("GET", "/files/{file_id}", self.file_bytes),
            ("GET", "/wait", self.wait),
            ("GET", "/updates", self.pending_updates),
            ("POST", "/faults", self.add_fault),
            ("DELETE", "/faults", self.clear_faults),
            ("GET", "/stats", self.stats),
            ("GET", "/limits", self.get_limits),
            ("PUT", "/limits", self.set_limits),
            ("POST", "/limits", self.set_limits),
            ("POST", "/reset", self.reset),
        ]
        for method, path, handler in routes:
            router.add_route(method, prefix + path, self._wrap(handler))

    @staticmethod
    def _wrap(handler):
        async def run(request: web.Request) -> web.Response:
            try:
                result = await handler(request)
                return result if isinstance(result, web.StreamResponse) else _ok(result)
            except ControlError as err:
                return web.json_response({"ok": False, "description": err.description}, status=err.status)
            except (KeyError, TypeError, ValueError) as err:
                return web.json_response({"ok": False, "description": f"bad request: {err!r}"}, status=400)

        return run

    # --- people and settings ------------------------------------------------------------------

    async def info(self, request: web.Request) -> dict:
        return {**self.sb.urls(), "bot": self.world.bot_user, "limits": self.sb.limiter.limits.to_dict(),
                "allow_unknown_chats": self.world.allow_unknown_chats, "token": self.sb.token}

    async def users(self, request: web.Request) -> dict:
        fields, _ = await _body(request)
        entries = fields.get("users") or []
        for entry in entries:
            if isinstance(entry, int):
                entry = {"id": entry}
            self.world.add_user(int(entry["id"]), entry.get("first_name"), entry.get("username"),
                                entry.get("last_name"), entry.get("language_code"))
        return {"created": len(entries)}

    async def groups(self, request: web.Request) -> dict:
        fields, _ = await _body(request)
        try:
            chat = self.world.add_group(_int(fields, "chat_id"), fields.get("title"), fields.get("type") or "group")
        except ValueError as err:
            raise ControlError(str(err)) from None
        for member in fields.get("members") or []:
            self.world.add_user(int(member))
        return chat.to_json()

    async def settings(self, request: web.Request) -> dict:
        fields, _ = await _body(request)
        if "allow_unknown_chats" in fields:
            self.world.allow_unknown_chats = bool(fields["allow_unknown_chats"])
        return {"allow_unknown_chats": self.world.allow_unknown_chats}

    async def block(self, request: web.Request) -> dict:
        """A user blocks (or unblocks) the bot: sends get 403 and a my_chat_member update arrives."""
        fields, _ = await _body(request)
        user = self._user(fields)
        chat = self.world.chats[user["id"]]
        blocked = bool(fields.get("blocked", True))
        if chat.blocked == blocked:
            return {"blocked": blocked, "update_id": None}
        chat.blocked = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        update = await self.world.updates.push({"my_chat_member": {
            "chat": chat.to_json(), "from": user, "date": now_ts(),
            "old_chat_member": {"status": old, "user": self.world.bot_user, **({"until_date": 0} if old == "kicked" else {})},
            "new_chat_member": {"status": new, "user": self.world.bot_user, **({"until_date": 0} if new == "kicked" else {})},
        }})
        return {"blocked": blocked, "update_id": update["update_id"]}

    def _user(self, fields: dict) -> dict:
        user_id = _int(fields, "user_id")
        if user_id <= 0:
            raise ControlError("user_id must be positive")
        return self.world.add_user(user_id, fields.get("first_name"), fields.get("username"),
                                   fields.get("last_name"), fields.get("language_code"))

    def _chat_for(self, fields: dict, user: dict) -> Chat:
        chat_id = fields.get("chat_id")
        if chat_id in (None, ""):
            return self.world.chats[user["id"]]
        chat = self.world.chats.get(int(chat_id))
        if chat is None:
            raise ControlError(f"chat {chat_id} does not exist: create the group first")
        return chat

    async def _user_message(self, fields: dict, body: dict) -> tuple[dict, dict]:
        user = self._user(fields)
        chat = self._chat_for(fields, user)
        reply_to = fields.get("reply_to_message_id")
        if reply_to not in (None, ""):
            target = chat.messages.get(int(reply_to))
            if target is None:
                raise ControlError(f"message {reply_to} not found in chat {chat.id}")
            quoted = copy.deepcopy(target.data)
            quoted.pop("reply_to_message", None)
            body = {"reply_to_message": quoted, **body}
        record = self.world.new_user_message(chat, user, body)
        update = await self.world.updates.push({"message": record.data})
        await self.world.touch()  # the chat page shows what was sent at once
        return update, record.data

    # --- what users send ----------------------------------------------------------------------

    async def text(self, request: web.Request) -> dict:
        fields, _ = await _body(request)
        return await self.send_text(fields)

    async def send_text(self, fields: dict) -> dict:
        """A user types a message (fields: user_id, text, optional chat_id, reply_to_message_id, names)."""
        text = fields.get("text")
        if not text or not str(text).strip():
            raise ControlError("text is required")
        body: dict[str, Any] = {"text": text}
        entities = detect_entities(text)
        if entities:
            body["entities"] = entities
        update, message = await self._user_message(fields, body)
        return {"update_id": update["update_id"], "message_id": message["message_id"]}

    def _caption(self, caption: str | None) -> dict:
        if not caption:
            return {}
        body: dict[str, Any] = {"caption": caption}
        entities = detect_entities(caption)
        if entities:
            body["caption_entities"] = entities
        return body

    async def _photo_update(self, fields: dict, data: bytes, caption: str | None, group: str | None) -> dict:
        ladder = await asyncio.to_thread(photo_ladder, data)
        sizes = self.world.files.add_photo(data, ladder)
        body = {"photo": [s.photo_size() for s in sizes], **self._caption(caption)}
        if group:
            body["media_group_id"] = group
        update, message = await self._user_message(fields, body)
        return {"update_id": update["update_id"], "message_id": message["message_id"],
                "file_ids": [s.file_id for s in sizes]}

    async def photo(self, request: web.Request) -> dict:
        fields, files = await _body(request)
        if not files.get("photo"):
            raise ControlError("a photo file part is required")
        return await self._photo_update(fields, files["photo"][0][0], fields.get("caption"),
                                        fields.get("media_group_id"))

    async def album(self, request: web.Request) -> dict:
        fields, files = await _body(request)
        photos = files.get("photo") or []
        if not photos:
            raise ControlError("at least one photo file part is required")
        group = fields.get("media_group_id") or self.world.new_media_group_id()
        results = []
        for index, (data, _, _) in enumerate(photos):
            caption = fields.get("caption") if index == 0 else None
            results.append(await self._photo_update(fields, data, caption, group))
        return {"update_ids": [r["update_id"] for r in results], "media_group_id": group,
                "message_ids": [r["message_id"] for r in results]}

    async def document(self, request: web.Request) -> dict:
        fields, files = await _body(request)
        if not files.get("document"):
            raise ControlError("a document file part is required")
        data, filename, ctype = files["document"][0]
        file_name = fields.get("file_name") or filename or "file"
        mime = fields.get("mime_type") or ctype or "application/octet-stream"
        stored = self.world.files.add(data, "documents", file_name=file_name, mime_type=mime)
        body = {"document": {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                             "file_name": file_name, "mime_type": mime, "file_size": stored.size},
                **self._caption(fields.get("caption"))}
        update, message = await self._user_message(fields, body)
        return {"update_id": update["update_id"], "message_id": message["message_id"], "file_id": stored.file_id}

    async def raw_update(self, request: web.Request) -> dict:
        """Any update; a message in it is filed in its chat (ids and date filled in when missing)."""
        fields, _ = await _body(request)
        update = fields.get("update", fields)
        if not isinstance(update, dict):
            raise ControlError("update must be an object")
        update = {k: v for k, v in update.items() if k != "update_id"}
        if not update:
            raise ControlError("the update is empty")
        for key in ("message", "edited_message", "channel_post"):
            message = update.get(key)
            if isinstance(message, dict) and isinstance(message.get("chat"), dict):
                self._file_raw_message(message, new=key != "edited_message")
        pushed = await self.world.updates.push(update)
        return {"update_id": pushed["update_id"]}

    def _file_raw_message(self, message: dict, new: bool) -> None:
        chat_json = message["chat"]
        chat_id = int(chat_json["id"])
        sender = message.get("from")
        if chat_id > 0:
            user = self.world.add_user(chat_id, (sender or {}).get("first_name") or chat_json.get("first_name"),
                                       (sender or {}).get("username") or chat_json.get("username"))
            message.setdefault("from", user)
        else:
            self.world.add_group(chat_id, chat_json.get("title"), chat_json.get("type") or "group")
            if sender:
                self.world.add_user(int(sender["id"]), sender.get("first_name"), sender.get("username"))
        chat = self.world.chats[chat_id]
        message.setdefault("date", now_ts())
        if new and "message_id" not in message:
            message["message_id"] = chat.take_message_id()
        elif new:
            chat.next_message_id = max(chat.next_message_id, int(message["message_id"]) + 1)
        if new:
            chat.messages[message["message_id"]] = MessageRecord(chat_id, message["message_id"], False, message)

    async def redeliver(self, request: web.Request) -> dict:
        fields, _ = await _body(request)
        update = await self.world.updates.redeliver(_int(fields, "update_id"))
        if update is None:
            raise ControlError("no such update")
        return {"update_id": update["update_id"]}

    async def press(self, request: web.Request) -> dict:
        fields, _ = await _body(request)
        user = self._user(fields)
        chat = self._chat_for(fields, user)
        message_id = _int(fields, "message_id")
        data = fields.get("callback_data")
        record = chat.messages.get(message_id)
        if record is None or not record.from_bot:
            raise ControlError(f"the bot has no message {message_id} in chat {chat.id}")
        keyboard = (record.data.get("reply_markup") or {}).get("inline_keyboard") or []
        # forged: a modified client (or a stale message) sends data no button of the message carries
        if not fields.get("forged") and not any(b.get("callback_data") == data for row in keyboard for b in row):
            offered = [b.get("callback_data") for row in keyboard for b in row if "callback_data" in b]
            raise ControlError(f"message {message_id} has no button with callback_data {data!r}; it offers {offered}")
        query = self.world.new_callback(user, record, data)
        update = await self.world.updates.push({"callback_query": query})
        return {"callback_query_id": query["id"], "update_id": update["update_id"]}

    # --- what the bot did ---------------------------------------------------------------------

    async def messages(self, request: web.Request) -> dict:
        q = request.query
        chat_id = int(q["chat_id"]) if q.get("chat_id") else None
        since = int(q.get("since") or 0)
        changed_after = int(q.get("changed_after") or 0)  # only messages created or changed since
        version = self.world.version
        found = [r.snapshot() for r in self.world.bot_messages
                 if r.seq > since and r.version > changed_after and (chat_id is None or r.chat_id == chat_id)]
        return {"version": version, "messages": found}

    async def callbacks(self, request: web.Request) -> list[dict]:
        return [entry["answer"] for entry in self.world.callbacks.values() if entry["answer"] is not None]

    async def file_bytes(self, request: web.Request) -> web.Response:  # raw bytes, not JSON
        stored = self.world.files.get(request.match_info["file_id"])
        if stored is None:
            raise ControlError("no such file", status=404)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    async def wait(self, request: web.Request) -> dict:
        after = int(request.query.get("after_version") or 0)
        timeout = min(float(request.query.get("timeout") or 10), 60.0)
        if self.sb.closing:
            return {"version": self.world.version}
        return {"version": await self.world.wait_change(after, timeout)}

    async def pending_updates(self, request: web.Request) -> dict:
        return {"pending": self.world.updates.pending, "webhook": self.sb.webhook.info(self.world.updates)}

    # --- faults, limits, stats ----------------------------------------------------------------

    async def add_fault(self, request: web.Request) -> dict:
        fields, _ = await _body(request)
        rate = fields.get("rate")
        count = fields.get("count", None if rate is not None else 1)
        then = fields.get("then") or "fail"
        if then not in ("fail", "process"):
            raise ControlError("then must be 'fail' or 'process'")
        fault = Fault(
            method=fields.get("method"), status=int(fields.get("status") or 500),
            count=None if count is None else int(count),
            hang=float(fields["hang"]) if fields.get("hang") is not None else None,
            then=then, rate=float(rate) if rate is not None else None,
            retry_after=fields.get("retry_after"), description=fields.get("description"),
        )
        self.sb.faults.add(fault, seed=fields.get("seed"))
        return fault.to_dict()

    async def clear_faults(self, request: web.Request) -> dict:
        self.sb.faults.clear()
        return {"cleared": True}

    async def stats(self, request: web.Request) -> dict:
        return self.sb.stats()

    async def get_limits(self, request: web.Request) -> dict:
        return self.sb.limiter.limits.to_dict()

    async def set_limits(self, request: web.Request) -> dict:
        fields, _ = await _body(request)
        try:
            limits = Limits.from_dict(fields)
            self.sb.limiter.set_limits(limits)
        except (TypeError, ValueError) as err:
            raise ControlError(str(err)) from None
        return limits.to_dict()

    async def reset(self, request: web.Request) -> dict:
        await self.sb.reset()
        return {"reset": True}
