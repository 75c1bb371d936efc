"""The Bot API methods the sandbox answers, with Telegram's JSON shapes and refusals."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import mimetypes
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .files import MAX_DOWNLOAD_BYTES, StoredFile, image_size, photo_ladder
from .formatting import EntityParseError, parse_text, utf16_len
from .params import ApiError, Params, Upload, bad_request
from .world import Chat, MessageRecord, commands_key, now_ts

if TYPE_CHECKING:
    from .server import Sandbox

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_CALLBACK_DATA = 64
_CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
}
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# sendX method -> (Message field holding the file, folder of its file_path)
_FILE_METHODS = {
    "sendDocument": ("document", "documents"),
    "sendAudio": ("audio", "music"),
    "sendVideo": ("video", "videos"),
    "sendVoice": ("voice", "voice"),
    "sendAnimation": ("animation", "animations"),
    "sendSticker": ("sticker", "stickers"),
    "sendVideoNote": ("video_note", "video_notes"),
}

Handler = Callable[[Params], Awaitable[Any]]


def _too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


class BotApi:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        self.handlers: dict[str, tuple[str, Handler]] = {}
        for name in dir(self):
            if name.startswith("m_"):
                api_name = name[2:]
                self.handlers[api_name.lower()] = (api_name, getattr(self, name))
        for api_name in _FILE_METHODS:
            self.handlers[api_name.lower()] = (api_name, self._file_sender(api_name))

    @property
    def world(self):
        return self.sb.world

    def lookup(self, method: str) -> tuple[str, Handler] | None:
        return self.handlers.get(method.lower())

    # --- shared checks -----------------------------------------------------------------------

    def _chat(self, p: Params) -> Chat:
        chat = self.world.find_chat(p.chat_id())
        if chat is None:
            raise bad_request("chat not found")
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _acquire(self, chat: Chat) -> None:
        retry_after = self.sb.limiter.try_acquire(chat.id)
        if retry_after is not None:
            raise _too_many_requests(retry_after)

    def _reply_to(self, chat: Chat, p: Params) -> dict | None:
        params = p.json("reply_parameters") or {}
        mid = params.get("message_id") if isinstance(params, dict) else None
        if mid is None:
            mid = p.int("reply_to_message_id")
        if mid is None:
            return None
        allow = bool(params.get("allow_sending_without_reply")) or p.bool("allow_sending_without_reply")
        target = chat.messages.get(int(mid))
        if target is None:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        quoted = copy.deepcopy(target.data)
        quoted.pop("reply_to_message", None)
        return quoted

    def _markup(self, p: Params) -> tuple[dict | None, dict | None]:
        """(markup as sent, the inline keyboard Telegram echoes in the Message)."""
        markup = p.json("reply_markup")
        if markup is None:
            return None, None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            self._check_inline_keyboard(markup["inline_keyboard"])
            return markup, markup
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request("field \"keyboard\" must be an Array of Array")
            return markup, None
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup, None
        raise bad_request("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _check_inline_keyboard(rows: Any) -> None:
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")
        actions = ("url", "callback_data", "web_app", "login_url", "switch_inline_query",
                   "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
                   "copy_text", "callback_game", "pay")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
                if not any(k in button for k in actions):
                    raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not (1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA):
                    raise bad_request("BUTTON_DATA_INVALID")

    def _formatted(self, p: Params, field: str, entities_field: str, limit: int, *, required: bool):
        """(raw, plain text, entities, parse_mode) of a text or caption, checked like Telegram does."""
        raw = p.str(field)
        parse_mode = p.str("parse_mode")
        if raw is None or raw == "":
            if required:
                raise bad_request("message text is empty")
            return None, None, None, parse_mode
        explicit = p.json(entities_field)
        try:
            plain, entities = parse_text(raw, None if explicit else parse_mode)
        except EntityParseError as err:
            raise bad_request(f"can't parse entities: {err}") from None
        if explicit:
            entities = explicit
        if required and not plain.strip():
            raise bad_request("message text is empty")
        if utf16_len(plain) > limit:
            raise bad_request("message is too long" if field == "text" else "message caption is too long")
        return raw, plain, entities, parse_mode

    def _message(self, chat: Chat, fields: dict, *, inline_markup: dict | None, reply: dict | None) -> dict:
        data: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": self.world.bot_user,
            "chat": chat.to_json(),
            "date": now_ts(),
        }
        if reply is not None:
            data["reply_to_message"] = reply
        data.update({k: v for k, v in fields.items() if v is not None and v != []})
        if inline_markup is not None:
            data["reply_markup"] = inline_markup
        return data

    async def _commit(self, chat: Chat, method: str, data: dict, *, raw_text: str | None, parse_mode: str | None,
                      markup: dict | None, files: list[StoredFile] = ()) -> dict:
        record = MessageRecord(
            chat_id=chat.id, message_id=data["message_id"], from_bot=True, data=data, method=method,
            raw_text=raw_text, parse_mode=parse_mode, reply_markup=markup, files=[f.ref() for f in files],
        )
        self.world.store_message(chat, record)
        await self.world.touch(record)
        return data

    def _bot_record(self, p: Params, *, purpose: str) -> tuple[Chat, MessageRecord]:
        if p.str("inline_message_id"):
            raise bad_request("inline messages are not supported by the sandbox")
        chat = self._chat(p)
        mid = p.int("message_id")
        if mid is None:
            raise bad_request("message identifier is not specified")
        record = chat.messages.get(mid)
        if record is None:
            raise bad_request(f"message to {purpose} not found")
        return chat, record

    # --- files -------------------------------------------------------------------------------

    def _resolve_file(self, p: Params, name: str, value: Any, folder: str) -> StoredFile | Upload | None:
        """An upload to store, or a file the sandbox already has."""
        if name in p.uploads and not value:
            return p.uploads[name]
        if value is None or value == "":
            return None
        value = str(value)
        if value.startswith("attach://"):
            upload = p.uploads.get(value[len("attach://"):])
            if upload is None:
                raise bad_request(f"file of {folder} not found in the request: {value}")
            return upload
        if re.match(r"^https?://", value, re.IGNORECASE):
            # No network here: the URL is recorded, with no content.
            return self.world.files.add(b"", folder, source_url=value)
        stored = self.world.files.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return stored

    @staticmethod
    def _check_upload(upload: Upload) -> None:
        if len(upload.data) > MAX_UPLOAD_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        if not upload.data:
            raise bad_request("file must be non-empty")

    async def _photo_sizes(self, p: Params, name: str, value: Any) -> list[StoredFile]:
        found = self._resolve_file(p, name, value, "photos")
        if found is None:
            raise bad_request("there is no photo in the request")
        if isinstance(found, Upload):
            self._check_upload(found)
            if image_size(found.data) is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            ladder = await asyncio.to_thread(photo_ladder, found.data)
            return self.world.files.add_photo(found.data, ladder)
        return self.world.files.photo_set(found.file_id) or [found]

    def _plain_file(self, p: Params, name: str, value: Any, folder: str) -> StoredFile:
        found = self._resolve_file(p, name, value, folder)
        if found is None:
            raise bad_request(f"there is no {name} in the request")
        if isinstance(found, Upload):
            self._check_upload(found)
            mime = found.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(found.filename or "")[0] or mime
            return self.world.files.add(found.data, folder, file_name=found.filename, mime_type=mime)
        return found

    @staticmethod
    def _file_object(field: str, stored: StoredFile) -> dict:
        obj: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        if field in ("document", "audio", "video", "animation") and stored.file_name:
            obj["file_name"] = stored.file_name
        if field != "sticker" and stored.mime_type:
            obj["mime_type"] = stored.mime_type
        if field in ("video", "animation"):
            obj.update(width=stored.width or 640, height=stored.height or 360, duration=0)
        elif field in ("audio", "voice"):
            obj["duration"] = 0
        elif field == "video_note":
            obj.update(length=240, duration=0)
        elif field == "sticker":
            obj.update(width=512, height=512, type="regular", is_animated=False, is_video=False)
        return obj

    # --- identity and lifecycle ---------------------------------------------------------------

    async def m_getMe(self, p: Params) -> dict:
        return {
            **self.world.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def m_logOut(self, p: Params) -> bool:
        return True

    async def m_close(self, p: Params) -> bool:
        return True

    # --- updates and webhooks -----------------------------------------------------------------

    async def m_getUpdates(self, p: Params) -> list[dict]:
        if self.sb.webhook.url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        queue = self.world.updates
        offset = p.int("offset", 0)
        limit = min(max(p.int("limit", 100), 1), 100)
        timeout = max(p.float("timeout", 0.0), 0.0)
        allowed = p.json("allowed_updates")
        if allowed is not None:
            queue.allowed = set(allowed) if allowed else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with queue.changed:
            # A newer poll ends an older one with 409, as when two bot instances poll at once.
            queue.poll_generation += 1
            generation = queue.poll_generation
            queue.changed.notify_all()
            queue.confirm(offset)
            while True:
                if self.sb.webhook.url:
                    raise ApiError(409, "Conflict: terminated by setWebhook request")
                if queue.poll_generation != generation:
                    raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                        "make sure that only one bot instance is running")
                batch = queue.take(limit)
                remaining = deadline - loop.time()
                if batch or remaining <= 0 or self.sb.closing:
                    return batch
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(queue.changed.wait(), remaining)

    async def m_setWebhook(self, p: Params) -> bool:
        url = p.str("url", "")
        secret = p.str("secret_token")
        if secret is not None and not _SECRET_TOKEN.match(secret):
            raise bad_request("secret token contains unallowed characters")
        if url and not re.match(r"^https?://", url, re.IGNORECASE):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        allowed = p.json("allowed_updates")
        if allowed is not None:
            self.world.updates.allowed = set(allowed) if allowed else None
        if p.bool("drop_pending_updates"):
            self.world.updates.clear()
        await self.sb.webhook.configure(
            url or None, secret, max_connections=p.int("max_connections", 40),
        )
        # Wake a getUpdates long poll so it answers the conflict at once.
        async with self.world.updates.changed:
            self.world.updates.poll_generation += 1
            self.world.updates.changed.notify_all()
        return True

    async def m_deleteWebhook(self, p: Params) -> bool:
        if p.bool("drop_pending_updates"):
            self.world.updates.clear()
        await self.sb.webhook.configure(None, None)
        return True

    async def m_getWebhookInfo(self, p: Params) -> dict:
        return self.sb.webhook.info(self.world.updates)

    # --- sending ------------------------------------------------------------------------------

    async def m_sendMessage(self, p: Params) -> dict:
        chat = self._chat(p)
        raw, plain, entities, parse_mode = self._formatted(p, "text", "entities", MAX_TEXT, required=True)
        markup, inline = self._markup(p)
        reply = self._reply_to(chat, p)
        self._acquire(chat)
        data = self._message(chat, {"text": plain, "entities": entities}, inline_markup=inline, reply=reply)
        return await self._commit(chat, "sendMessage", data, raw_text=raw, parse_mode=parse_mode, markup=markup)

    async def m_sendPhoto(self, p: Params) -> dict:
        chat = self._chat(p)
        raw, plain, entities, parse_mode = self._formatted(p, "caption", "caption_entities", MAX_CAPTION, required=False)
        markup, inline = self._markup(p)
        reply = self._reply_to(chat, p)
        sizes = await self._photo_sizes(p, "photo", p.raw("photo"))
        self._acquire(chat)
        fields = {"photo": [s.photo_size() for s in sizes], "caption": plain, "caption_entities": entities}
        data = self._message(chat, fields, inline_markup=inline, reply=reply)
        return await self._commit(chat, "sendPhoto", data, raw_text=raw, parse_mode=parse_mode, markup=markup,
                                  files=[sizes[-1]])

    def _file_sender(self, method: str) -> Handler:
        field, folder = _FILE_METHODS[method]

        async def send(p: Params) -> dict:
            chat = self._chat(p)
            raw, plain, entities, parse_mode = self._formatted(
                p, "caption", "caption_entities", MAX_CAPTION, required=False
            )
            markup, inline = self._markup(p)
            reply = self._reply_to(chat, p)
            stored = self._plain_file(p, field, p.raw(field), folder)
            self._acquire(chat)
            fields = {field: self._file_object(field, stored), "caption": plain, "caption_entities": entities}
            data = self._message(chat, fields, inline_markup=inline, reply=reply)
            return await self._commit(chat, method, data, raw_text=raw, parse_mode=parse_mode, markup=markup,
                                      files=[stored])

        return send

    async def m_sendMediaGroup(self, p: Params) -> list[dict]:
        chat = self._chat(p)
        media = p.json("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise bad_request("media must include 2-10 items")
        reply = self._reply_to(chat, p)
        prepared = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in ("photo", "video", "document", "audio"):
                raise bad_request("unsupported media type in the album")
            kind = item["type"]
            caption_params = Params({"caption": item.get("caption"), "parse_mode": item.get("parse_mode"),
                                     "caption_entities": item.get("caption_entities")})
            raw, plain, entities, parse_mode = self._formatted(
                caption_params, "caption", "caption_entities", MAX_CAPTION, required=False
            )
            if kind == "photo":
                sizes = await self._photo_sizes(p, "media", item.get("media"))
                fields = {"photo": [s.photo_size() for s in sizes]}
                stored = sizes[-1]
            else:
                stored = self._plain_file(p, "media", item.get("media"), kind + "s")
                fields = {kind: self._file_object(kind, stored)}
            fields.update(caption=plain, caption_entities=entities)
            prepared.append((fields, stored, raw, parse_mode))
        self._acquire(chat)
        group_id = self.world.new_media_group_id()
        results = []
        for fields, stored, raw, parse_mode in prepared:
            data = self._message(chat, {**fields, "media_group_id": group_id}, inline_markup=None, reply=reply)
            results.append(await self._commit(chat, "sendMediaGroup", data, raw_text=raw, parse_mode=parse_mode,
                                              markup=None, files=[stored]))
        return results

    async def m_forwardMessage(self, p: Params) -> dict:
        chat = self._chat(p)
        source = self._source_message(p)
        self._acquire(chat)
        fields = {k: v for k, v in source.data.items()
                  if k not in ("message_id", "from", "chat", "date", "reply_to_message", "reply_markup",
                               "edit_date")}
        origin_user = source.data.get("from", {})
        fields["forward_origin"] = {"type": "user", "sender_user": origin_user, "date": source.data.get("date")}
        data = self._message(chat, fields, inline_markup=None, reply=None)
        return await self._commit(chat, "forwardMessage", data, raw_text=data.get("text"), parse_mode=None,
                                  markup=None)

    async def m_copyMessage(self, p: Params) -> dict:
        chat = self._chat(p)
        source = self._source_message(p)
        markup, inline = self._markup(p)
        reply = self._reply_to(chat, p)
        self._acquire(chat)
        fields = {k: v for k, v in source.data.items()
                  if k not in ("message_id", "from", "chat", "date", "reply_to_message", "reply_markup",
                               "edit_date", "forward_origin")}
        data = self._message(chat, fields, inline_markup=inline, reply=reply)
        await self._commit(chat, "copyMessage", data, raw_text=data.get("text") or data.get("caption"),
                           parse_mode=None, markup=markup)
        return {"message_id": data["message_id"]}

    def _source_message(self, p: Params) -> MessageRecord:
        from_ref = Params({"chat_id": p.raw("from_chat_id")}).chat_id()
        source_chat = self.world.find_chat(from_ref)
        if source_chat is None:
            raise bad_request("chat not found")
        source = source_chat.messages.get(p.int("message_id", 0))
        if source is None:
            raise bad_request("message to forward not found")
        return source

    async def m_sendChatAction(self, p: Params) -> bool:
        self._chat(p)
        if p.str("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # --- editing ------------------------------------------------------------------------------

    async def _apply_edit(self, chat: Chat, record: MessageRecord, method: str, new: dict,
                          markup: dict | None, inline: dict | None, raw_text: str | None = None,
                          parse_mode: str | None = None) -> dict:
        data = record.data
        old = {k: data.get(k) for k in new}
        old["reply_markup"] = data.get("reply_markup")
        unchanged = all((data.get(k) or None) == (v or None) for k, v in new.items())
        if unchanged and data.get("reply_markup") == inline:
            raise bad_request("message is not modified: specified new message content and reply markup are "
                              "exactly the same as a current content and reply markup of the message")
        self._acquire(chat)
        for key, value in new.items():
            if value is None or value == []:
                data.pop(key, None)
            else:
                data[key] = value
        if inline is None:
            data.pop("reply_markup", None)
        else:
            data["reply_markup"] = inline
        data["edit_date"] = now_ts()
        record.reply_markup = markup
        if raw_text is not None:
            record.raw_text = raw_text
            record.parse_mode = parse_mode
        record.edits.append({
            "method": method,
            "date": data["edit_date"],
            "old": old,
            "new": {**{k: data.get(k) for k in new}, "reply_markup": inline},
        })
        await self.world.touch(record)
        return data

    @staticmethod
    def _editable(record: MessageRecord) -> None:
        if not record.from_bot:
            raise bad_request("message can't be edited")

    async def m_editMessageText(self, p: Params) -> dict:
        chat, record = self._bot_record(p, purpose="edit")
        self._editable(record)
        if "text" not in record.data:
            raise bad_request("there is no text in the message to edit")
        raw, plain, entities, parse_mode = self._formatted(p, "text", "entities", MAX_TEXT, required=True)
        markup, inline = self._markup(p)
        return await self._apply_edit(chat, record, "editMessageText", {"text": plain, "entities": entities},
                                      markup, inline, raw, parse_mode)

    async def m_editMessageCaption(self, p: Params) -> dict:
        chat, record = self._bot_record(p, purpose="edit")
        self._editable(record)
        if "text" in record.data:
            raise bad_request("there is no caption in the message to edit")
        raw, plain, entities, parse_mode = self._formatted(p, "caption", "caption_entities", MAX_CAPTION,
                                                           required=False)
        markup, inline = self._markup(p)
        return await self._apply_edit(chat, record, "editMessageCaption",
                                      {"caption": plain, "caption_entities": entities}, markup, inline,
                                      raw or "", parse_mode)

    async def m_editMessageReplyMarkup(self, p: Params) -> dict:
        chat, record = self._bot_record(p, purpose="edit")
        self._editable(record)
        markup, inline = self._markup(p)
        return await self._apply_edit(chat, record, "editMessageReplyMarkup", {}, markup, inline)

    async def m_deleteMessage(self, p: Params) -> bool:
        chat, record = self._bot_record(p, purpose="delete")
        del chat.messages[record.message_id]
        record.deleted = True
        await self.world.touch(record)
        return True

    # --- callbacks, files, commands, chats ----------------------------------------------------

    async def m_answerCallbackQuery(self, p: Params) -> bool:
        qid = p.str("callback_query_id")
        entry = self.world.callbacks.get(qid or "")
        if entry is None or entry["answer"] is not None:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = p.str("text")
        if text and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        entry["answer"] = {
            "callback_query_id": qid,
            "text": text,
            "show_alert": p.bool("show_alert"),
            "url": p.str("url"),
            "cache_time": p.int("cache_time", 0),
        }
        await self.world.touch()
        return True

    async def m_getFile(self, p: Params) -> dict:
        stored = self.world.files.get(p.str("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.size > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return stored.info()

    @staticmethod
    def _commands_key(p: Params) -> str:
        return commands_key(p.json("scope"), p.str("language_code", ""))

    async def m_setMyCommands(self, p: Params) -> bool:
        commands = p.json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be an array of at most 100 BotCommand")
        for cmd in commands:
            if not isinstance(cmd, dict) or not _COMMAND_NAME.match(str(cmd.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.world.commands[self._commands_key(p)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def m_getMyCommands(self, p: Params) -> list[dict]:
        return self.world.commands.get(self._commands_key(p), [])

    async def m_deleteMyCommands(self, p: Params) -> bool:
        self.world.commands.pop(self._commands_key(p), None)
        return True

    async def m_getChat(self, p: Params) -> dict:
        chat = self.world.find_chat(p.chat_id())
        if chat is None:
            raise bad_request("chat not found")
        return {
            **chat.to_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                "premium_subscription": False, "gifts_from_channels": False,
            },
        }
