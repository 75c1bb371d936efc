"""Clients of the sandbox's control API: act as Telegram users and read what the bot did.

``SandboxClient`` is async (``await client.send_text(...)``), ``SyncSandboxClient`` has the same
methods, blocking. Both speak HTTP to ``control_url``, so they work against a sandbox in the same
process, in a thread, or in another process."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from .limits import Limits

Message = dict[str, Any]
Predicate = Callable[[Message], bool]


class SandboxError(RuntimeError):
    """The control API refused a request (bad arguments, unknown message or button...)."""


def _matcher(predicate: Predicate | None, contains: str | None) -> Predicate:
    def match(message: Message) -> bool:
        if message.get("deleted"):
            return False
        if contains is not None and contains not in (message.get("text") or message.get("caption") or ""):
            return False
        return predicate is None or bool(predicate(message))

    return match


class _Watch:
    """Bot messages seen so far while waiting: each round fetches only what was created or
    changed since the last one, so waiting for thousands of messages stays linear."""

    def __init__(self, chat_id: int | None, since: int, match: Predicate) -> None:
        self.params: dict[str, Any] = {"since": since}
        if chat_id is not None:
            self.params["chat_id"] = chat_id
        self.match = match
        self.version = 0
        self.seen: dict[int, Message] = {}
        self.matching: dict[int, Message] = {}

    def query(self) -> dict:
        return {**self.params, "changed_after": self.version}

    def absorb(self, snapshot: dict) -> None:
        for message in snapshot["messages"]:
            seq = message["seq"]
            self.seen[seq] = message
            if self.match(message):
                self.matching[seq] = message
            else:
                self.matching.pop(seq, None)
        self.version = snapshot["version"]

    def first(self) -> Message | None:
        return self.matching[min(self.matching)] if self.matching else None

    def all(self) -> list[Message]:
        return [self.matching[seq] for seq in sorted(self.matching)]

    def timeout_error(self, what: str, timeout: float) -> TimeoutError:
        recent = [
            f"  chat {m['chat_id']} #{m['message_id']} {m['method']}: "
            f"{(m.get('text') or m.get('caption') or '')[:80]!r}"
            for m in (self.seen[seq] for seq in sorted(self.seen)[-5:])
        ]
        return TimeoutError(f"no {what} within {timeout:.1f}s; last bot messages:\n"
                            + ("\n".join(recent) or "  (none)"))


def _int_keys(stats: dict) -> dict:
    for key in ("rate_limited_by_chat", "max_per_chat_per_sec_by_chat", "max_group_per_min_by_chat"):
        if isinstance(stats.get(key), dict):
            stats[key] = {int(k): v for k, v in stats[key].items()}
    if isinstance(stats.get("errors_by_code"), dict):
        stats["errors_by_code"] = {int(k): v for k, v in stats["errors_by_code"].items()}
    return stats


def _user_fields(user_id: int, first_name: str | None, username: str | None, chat_id: int | None) -> dict:
    fields: dict[str, Any] = {"user_id": user_id}
    if first_name:
        fields["first_name"] = first_name
    if username:
        fields["username"] = username
    if chat_id is not None:
        fields["chat_id"] = chat_id
    return fields


def _form(fields: dict) -> dict[str, str]:
    return {k: str(v) for k, v in fields.items() if v is not None}


def _result(response: httpx.Response) -> Any:
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        if not body.get("ok"):
            raise SandboxError(body.get("description") or f"HTTP {response.status_code}")
        return body["result"]
    if response.status_code != 200:
        raise SandboxError(f"HTTP {response.status_code}: {response.text[:200]}")
    return response.content


class _Calls:
    """The control API's requests. ``_call`` is async in SandboxClient and blocking in
    SyncSandboxClient, so every method here returns an awaitable or a value accordingly."""

    def __init__(self, control_url: str, timeout: float = 30.0) -> None:
        self.control_url = control_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, *, then: Callable[[Any], Any] | None = None, **kwargs: Any) -> Any:
        raise NotImplementedError

    # users and chats
    def create_users(self, users: Iterable[int | dict]) -> Any:
        """Make users known to the bot (as if each had written /start), in bulk."""
        return self._call("POST", "/users", json={"users": list(users)}, then=lambda r: r["created"])

    def create_group(self, chat_id: int, title: str | None = None, members: Iterable[int] = (),
                     type: str = "group") -> Any:
        return self._call("POST", "/groups", json={"chat_id": chat_id, "title": title, "members": list(members),
                                                   "type": type})

    def allow_unknown_chats(self, allow: bool = True) -> Any:
        """Let the bot send to chats nobody created (default: 400 "chat not found" like Telegram)."""
        return self._call("POST", "/settings", json={"allow_unknown_chats": allow})

    def block(self, user_id: int, blocked: bool = True) -> Any:
        """The user blocks the bot: its sends get 403 Forbidden; returns the my_chat_member update_id."""
        return self._call("POST", "/block", json={"user_id": user_id, "blocked": blocked},
                          then=lambda r: r["update_id"])

    # what users send
    def send_text(self, user_id: int, text: str, *, first_name: str | None = None, username: str | None = None,
                  chat_id: int | None = None, reply_to_message_id: int | None = None) -> Any:
        """A text message (commands carry bot_command entities); chat_id for a group. -> update_id"""
        fields = _user_fields(user_id, first_name, username, chat_id)
        fields.update(text=text, reply_to_message_id=reply_to_message_id)
        return self._call("POST", "/text", json=fields, then=lambda r: r["update_id"])

    def send_photo(self, user_id: int, data: bytes, caption: str | None = None, media_group_id: str | None = None,
                   *, first_name: str | None = None, username: str | None = None,
                   chat_id: int | None = None, reply_to_message_id: int | None = None) -> Any:
        """A photo message with Telegram's PhotoSize ladder (largest = these bytes). -> update_id"""
        fields = _user_fields(user_id, first_name, username, chat_id)
        fields.update(caption=caption, media_group_id=media_group_id, reply_to_message_id=reply_to_message_id)
        return self._call("POST", "/photo", data=_form(fields), files=[("photo", ("photo.jpg", data, "image/jpeg"))],
                          then=lambda r: r["update_id"])

    def send_album(self, user_id: int, photos: Iterable[bytes], caption: str | None = None, *,
                   first_name: str | None = None, username: str | None = None,
                   chat_id: int | None = None) -> Any:
        """One update per photo sharing a media_group_id, the caption on the first. -> [update_id]"""
        fields = _user_fields(user_id, first_name, username, chat_id)
        fields["caption"] = caption
        files = [("photo", (f"photo{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]
        return self._call("POST", "/album", data=_form(fields), files=files, then=lambda r: r["update_ids"])

    def send_document(self, user_id: int, data: bytes, file_name: str,
                      mime_type: str = "application/octet-stream", caption: str | None = None, *,
                      first_name: str | None = None, username: str | None = None,
                      chat_id: int | None = None) -> Any:
        """A document message. -> update_id"""
        fields = _user_fields(user_id, first_name, username, chat_id)
        fields.update(caption=caption, file_name=file_name, mime_type=mime_type)
        return self._call("POST", "/document", data=_form(fields), files=[("document", (file_name, data, mime_type))],
                          then=lambda r: r["update_id"])

    def send_update(self, update: dict) -> Any:
        """Any update (sticker, voice, edited_message...); a new update_id is assigned. -> update_id"""
        return self._call("POST", "/update", json={"update": update}, then=lambda r: r["update_id"])

    def redeliver(self, update_id: int) -> Any:
        """Deliver an earlier update again, with the same update_id (as after a bot crash)."""
        return self._call("POST", "/redeliver", json={"update_id": update_id}, then=lambda r: r["update_id"])

    def press_button(self, user_id: int, message_id: int, callback_data: str, *, chat_id: int | None = None,
                     forged: bool = False) -> Any:
        """Press an inline button of a bot message (it must exist there; `forged`: any data, as a
        modified client could send). -> callback_query_id"""
        fields = _user_fields(user_id, None, None, chat_id)
        fields.update(message_id=message_id, callback_data=callback_data, forged=forged)
        return self._call("POST", "/press", json=fields, then=lambda r: r["callback_query_id"])

    # what the bot did
    def messages(self, chat_id: int | None = None, since: int = 0) -> Any:
        """Bot messages with seq > since: method, chat_id, message_id, text/caption (current), raw_text,
        parse_mode, entities, reply_markup, files (refs with sha256), edits, deleted, message (JSON)."""
        return self._call("GET", "/messages", params=self._msg_params(chat_id, since), then=lambda r: r["messages"])

    @staticmethod
    def _msg_params(chat_id: int | None, since: int) -> dict:
        params: dict[str, Any] = {"since": since}
        if chat_id is not None:
            params["chat_id"] = chat_id
        return params

    def answered_callbacks(self) -> Any:
        return self._call("GET", "/callbacks")

    def get_file_bytes(self, file_id: str) -> Any:
        return self._call("GET", f"/files/{file_id}")

    def pending_updates(self) -> Any:
        return self._call("GET", "/updates")

    def info(self) -> Any:
        return self._call("GET", "/info")

    # faults, limits, stats
    def faults(self, method: str | None = None, status: int = 500, count: int | None = None, *,
               hang: float | None = None, then: str = "fail", rate: float | None = None, seed: int | None = None,
               retry_after: int | None = None, description: str | None = None) -> Any:
        """The next ``count`` calls (default 1; unlimited for ``rate``) of ``method`` (None: any) fail with
        ``status``; ``hang`` holds them that long first (``then="process"``: handled normally after the
        hang, as when Telegram is slow but did send); ``rate``: each call fails with that probability."""
        body = {"method": method, "status": status, "hang": hang, "then": then, "rate": rate, "seed": seed,
                "retry_after": retry_after, "description": description}
        if count is not None:
            body["count"] = count
        return self._call("POST", "/faults", json=body)

    def clear_faults(self) -> Any:
        return self._call("DELETE", "/faults")

    def stats(self) -> Any:
        """requests (per method), messages_accepted, rate_limited (+ _by_chat), max_global_per_sec,
        max_per_chat_per_sec (+ _by_chat), max_group_per_min, errors_by_code, faults_served, updates_*..."""
        return self._call("GET", "/stats", then=_int_keys)

    def set_limits(self, limits: Limits | dict) -> Any:
        body = limits.to_dict() if isinstance(limits, Limits) else dict(limits)
        return self._call("PUT", "/limits", json=body, then=Limits.from_dict)

    def get_limits(self) -> Any:
        return self._call("GET", "/limits", then=Limits.from_dict)

    def reset(self) -> Any:
        """Forget users, chats, messages, files, faults, stats; limits back to the sandbox's own."""
        return self._call("POST", "/reset")


class SandboxClient(_Calls):
    """Async control client: ``async with SandboxClient(sb.control_url) as c: await c.send_text(...)``."""

    def __init__(self, control_url: str, timeout: float = 30.0) -> None:
        super().__init__(control_url, timeout)
        self._http = httpx.AsyncClient(base_url=self.control_url, timeout=timeout)

    async def _call(self, method: str, path: str, *, then: Callable[[Any], Any] | None = None, **kwargs: Any) -> Any:
        result = _result(await self._http.request(method, path, **kwargs))
        return then(result) if then else result

    async def _wait_change(self, version: int, remaining: float) -> None:
        wait = min(remaining, 10.0)
        await self._call("GET", "/wait", params={"after_version": version, "timeout": wait}, timeout=wait + 10)

    async def _watch(self, watch: _Watch, done: Callable[[], Any], what: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            watch.absorb(await self._call("GET", "/messages", params=watch.query()))
            result = done()
            if result is not None:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise watch.timeout_error(what, timeout)
            await self._wait_change(watch.version, remaining)

    async def wait_for(self, predicate: Predicate | None = None, *, chat_id: int | None = None,
                       contains: str | None = None, since: int = 0, timeout: float = 10.0) -> Message:
        """The first bot message (seq > since, not deleted) matching chat_id, contains (text or
        caption) and predicate, waiting on the server's change notifications until ``timeout``.
        Raises TimeoutError listing the last messages."""
        watch = _Watch(chat_id, since, _matcher(predicate, contains))
        return await self._watch(watch, watch.first, "matching message", timeout)

    async def wait_for_messages(self, count: int, *, chat_id: int | None = None, since: int = 0,
                                predicate: Predicate | None = None, timeout: float = 10.0) -> list[Message]:
        """Wait until at least ``count`` bot messages match; returns all matching ones in order."""
        watch = _Watch(chat_id, since, _matcher(predicate, None))
        return await self._watch(watch, lambda: watch.all() if len(watch.matching) >= count else None,
                                 f"{count} matching messages", timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()


class SyncSandboxClient(_Calls):
    """Blocking control client with the same methods as SandboxClient."""

    def __init__(self, control_url: str, timeout: float = 30.0) -> None:
        super().__init__(control_url, timeout)
        self._http = httpx.Client(base_url=self.control_url, timeout=timeout)

    def _call(self, method: str, path: str, *, then: Callable[[Any], Any] | None = None, **kwargs: Any) -> Any:
        result = _result(self._http.request(method, path, **kwargs))
        return then(result) if then else result

    def _wait_change(self, version: int, remaining: float) -> None:
        wait = min(remaining, 10.0)
        self._call("GET", "/wait", params={"after_version": version, "timeout": wait}, timeout=wait + 10)

    def _watch(self, watch: _Watch, done: Callable[[], Any], what: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            watch.absorb(self._call("GET", "/messages", params=watch.query()))
            result = done()
            if result is not None:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise watch.timeout_error(what, timeout)
            self._wait_change(watch.version, remaining)

    def wait_for(self, predicate: Predicate | None = None, *, chat_id: int | None = None,
                 contains: str | None = None, since: int = 0, timeout: float = 10.0) -> Message:
        watch = _Watch(chat_id, since, _matcher(predicate, contains))
        return self._watch(watch, watch.first, "matching message", timeout)

    def wait_for_messages(self, count: int, *, chat_id: int | None = None, since: int = 0,
                          predicate: Predicate | None = None, timeout: float = 10.0) -> list[Message]:
        watch = _Watch(chat_id, since, _matcher(predicate, None))
        return self._watch(watch, lambda: watch.all() if len(watch.matching) >= count else None,
                           f"{count} matching messages", timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SyncSandboxClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["SandboxClient", "SandboxError", "SyncSandboxClient"]
