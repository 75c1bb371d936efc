"""The sandbox's in-memory Telegram: users, chats, messages, pending updates, callback queries.

Everything runs on one event loop and mutations never await halfway, so no locks are needed;
conditions wake long polls and control-API waiters."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from .files import FileStore

# Update types Telegram leaves out unless allowed_updates asks for them.
_OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}


def now_ts() -> int:
    return int(time.time())


def commands_key(scope: dict | None, language_code: str | None = "") -> str:
    """Where setMyCommands files a menu: its scope (chat ids as integers) and language."""
    scope = dict(scope or {"type": "default"})
    if "chat_id" in scope and str(scope["chat_id"]).lstrip("-").isdigit():
        scope["chat_id"] = int(scope["chat_id"])
    return f"{sorted(scope.items())}|{language_code or ''}"


@dataclass
class MessageRecord:
    chat_id: int
    message_id: int
    from_bot: bool
    data: dict  # the Message object as Telegram would return it now
    method: str | None = None
    seq: int = 0  # order among the bot's messages, for messages(since=...)
    version: int = 0  # World.version when this message was last created, edited or deleted
    raw_text: str | None = None  # what the bot sent before parse_mode was applied
    parse_mode: str | None = None
    reply_markup: dict | None = None  # as sent, including reply keyboards Telegram does not echo
    files: list[dict] = field(default_factory=list)
    edits: list[dict] = field(default_factory=list)
    deleted: bool = False
    sent_at: float = 0.0  # time.monotonic()

    def snapshot(self) -> dict:
        data = self.data
        return {
            "seq": self.seq,
            "method": self.method,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "date": data.get("date"),
            "text": data.get("text"),
            "caption": data.get("caption"),
            "raw_text": self.raw_text,
            "parse_mode": self.parse_mode,
            "entities": data.get("entities") or data.get("caption_entities") or [],
            "reply_markup": self.reply_markup,
            "reply_to_message_id": (data.get("reply_to_message") or {}).get("message_id"),
            "media_group_id": data.get("media_group_id"),
            "files": self.files,
            "edits": self.edits,
            "deleted": self.deleted,
            "sent_at": self.sent_at,
            "message": data,
        }


@dataclass
class Chat:
    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    blocked: bool = False  # a private chat whose user blocked the bot
    next_message_id: int = 1
    messages: dict[int, MessageRecord] = field(default_factory=dict)

    def to_json(self) -> dict:
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "first_name", "last_name", "username"):
            value = getattr(self, key)
            if value:
                out[key] = value
        return out

    def take_message_id(self) -> int:
        mid = self.next_message_id
        self.next_message_id += 1
        return mid


class UpdateQueue:
    """Pending updates in update_id order, as getUpdates and webhooks hand them out."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.pending: list[dict] = []
        self.history: dict[int, dict] = {}
        self.forced: set[int] = set()  # redelivered: returned once even if an offset passed them
        self.allowed: set[str] | None = None
        self.changed = asyncio.Condition()
        self.poll_generation = 0
        self.created = 0
        self.delivered = 0

    def next_id(self) -> int:
        return next(self._ids)

    def _insert(self, update: dict) -> None:
        uid = update["update_id"]
        pos = len(self.pending)
        while pos > 0 and self.pending[pos - 1]["update_id"] > uid:
            pos -= 1
        self.pending.insert(pos, update)

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def push(self, body: dict) -> dict:
        update = {"update_id": self.next_id(), **body}
        self.history[update["update_id"]] = update
        self.created += 1
        self._insert(update)
        await self._notify()
        return update

    async def redeliver(self, update_id: int) -> dict | None:
        update = self.history.get(update_id)
        if update is None:
            return None
        if not any(u["update_id"] == update_id for u in self.pending):
            self._insert(update)
        self.forced.add(update_id)
        await self._notify()
        return update

    def confirm(self, offset: int) -> None:
        """getUpdates offset: updates below it are confirmed and forgotten; a negative offset
        keeps only the last -offset updates."""
        if offset < 0:
            self.pending = self.pending[offset:]
            return
        if offset:
            self.pending = [
                u for u in self.pending if u["update_id"] >= offset or u["update_id"] in self.forced
            ]

    @staticmethod
    def kind(update: dict) -> str:
        return next((k for k in update if k != "update_id"), "")

    def is_allowed(self, update: dict) -> bool:
        kind = self.kind(update)
        if self.allowed:
            return kind in self.allowed
        return kind not in _OPT_IN_UPDATES

    def take(self, limit: int) -> list[dict]:
        self.pending = [u for u in self.pending if self.is_allowed(u)]
        batch = self.pending[:limit]
        for u in batch:
            self.forced.discard(u["update_id"])
        self.delivered += len(batch)
        return batch

    def drop(self, update_id: int) -> None:
        self.pending = [u for u in self.pending if u["update_id"] != update_id]
        self.forced.discard(update_id)

    def clear(self) -> None:
        self.pending.clear()
        self.forced.clear()


class World:
    def __init__(self, bot_id: int, bot_username: str, bot_name: str) -> None:
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.updates = UpdateQueue()
        self.changed = asyncio.Condition()
        self.version = 0
        # Counters survive reset() so "since" cursors and ids held by clients stay meaningful.
        self._seq = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._media_groups = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        """Forget users, chats, messages, files and pending updates. Update ids keep growing (a
        running bot's offset must not hide new updates) and waiters stay attached."""
        self.allow_unknown_chats = False
        self.users: dict[int, dict] = {}
        self.chats: dict[int, Chat] = {}
        self.files = FileStore()
        self.updates.clear()
        self.updates.history.clear()
        self.bot_messages: list[MessageRecord] = []
        self.callbacks: dict[str, dict] = {}
        self.commands: dict[str, list[dict]] = {}

    # --- change notification for control-API waiters ---

    async def touch(self, record: MessageRecord | None = None) -> None:
        self.version += 1
        if record is not None:
            record.version = self.version
        async with self.changed:
            self.changed.notify_all()

    async def wait_change(self, after_version: int, timeout: float) -> int:
        async with self.changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait_for(lambda: self.version > after_version), timeout)
        return self.version

    # --- users and chats ---

    def add_user(self, user_id: int, first_name: str | None = None, username: str | None = None,
                 last_name: str | None = None, language_code: str | None = None) -> dict:
        user = self.users.get(user_id)
        if user is None:
            user = {"id": user_id, "is_bot": False, "first_name": first_name or f"User {user_id}"}
            self.users[user_id] = user
        if first_name:
            user["first_name"] = first_name
        for key, value in (("last_name", last_name), ("username", username), ("language_code", language_code)):
            if value:
                user[key] = value
        chat = self.chats.get(user_id)
        if chat is None:
            chat = self.chats[user_id] = Chat(id=user_id, type="private")
        chat.first_name = user["first_name"]
        chat.last_name = user.get("last_name")
        chat.username = user.get("username")
        return user

    def add_group(self, chat_id: int, title: str | None = None, type_: str = "group") -> Chat:
        if chat_id >= 0:
            raise ValueError("group and channel ids are negative")
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = Chat(id=chat_id, type=type_, title=title or f"Group {chat_id}")
        elif title:
            chat.title = title
        return chat

    def find_chat(self, chat_ref: int | str) -> Chat | None:
        if isinstance(chat_ref, str):
            name = chat_ref.lstrip("@").lower()
            return next((c for c in self.chats.values() if (c.username or "").lower() == name), None)
        chat = self.chats.get(chat_ref)
        if chat is None and self.allow_unknown_chats:
            if chat_ref > 0:
                self.add_user(chat_ref)
                chat = self.chats[chat_ref]
            else:
                chat = self.add_group(chat_ref)
        return chat

    def commands_for(self, chat: Chat, user_id: int | None = None) -> list[dict]:
        """The command menu a Telegram client shows in this chat: the narrowest scope that has one."""
        private = chat.type == "private"
        scopes = [{"type": "chat", "chat_id": chat.id}]
        if not private and user_id is not None:
            scopes.insert(0, {"type": "chat_member", "chat_id": chat.id, "user_id": user_id})
        scopes.append({"type": "all_private_chats"} if private else {"type": "all_group_chats"})
        scopes.append({"type": "default"})
        for scope in scopes:
            found = self.commands.get(commands_key(scope))
            if found:
                return found
        return []

    # --- messages ---

    def store_message(self, chat: Chat, record: MessageRecord) -> MessageRecord:
        chat.messages[record.message_id] = record
        if record.from_bot:
            record.seq = next(self._seq)
            record.sent_at = time.monotonic()
            self.bot_messages.append(record)
        return record

    def new_user_message(self, chat: Chat, user: dict, fields: dict) -> MessageRecord:
        mid = chat.take_message_id()
        data = {"message_id": mid, "from": user, "chat": chat.to_json(), "date": now_ts(), **fields}
        return self.store_message(chat, MessageRecord(chat_id=chat.id, message_id=mid, from_bot=False, data=data))

    def new_media_group_id(self) -> str:
        return f"{13000000000000000 + next(self._media_groups)}"

    def new_callback(self, user: dict, record: MessageRecord, data: str) -> dict:
        cq = {
            "id": f"{4000000000000000000 + next(self._callback_ids)}",
            "from": user,
            "message": copy.deepcopy(record.data),
            "chat_instance": f"{abs(hash((self.bot_user['id'], record.chat_id))) % 10**18}",
            "data": data,
        }
        self.callbacks[cq["id"]] = {"query": cq, "answer": None}
        return cq
