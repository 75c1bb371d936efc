"""`dutybot run` without a BOT_TOKEN: the bot plays against the embedded Telegram sandbox, whose
chat page (http://127.0.0.1:8081/) lets a person act as anyone in duties.yaml.

The sandbox knows nothing of the store; `CataloguePeople` is what it is given: the catalogue's
people, and for one of them a Telegram id. A person the store already knows (bound in an earlier
run) keeps theirs; anybody else gets the next free id and a fresh invite token from the invites
service, which the page sends as `/start <token>`, so binding goes through the bot's own flow.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from sqlmodel import select

from bot import clock
from bot.sandbox.telegram import Limits, Sandbox
from bot.sandbox.telegram.page import Opening
from bot.services import invites
from bot.store.models import Person
from bot.texts import common as T

SANDBOX_TOKEN = "1000000001:SANDBOX-local-token"
FIRST_USER_ID = 1001
OFFICE_GROUP_ID = -1001000000001


class CataloguePeople:
    """The page's `People`: everyone in the catalogue, opened by the store and the invites service."""

    def __init__(self, store, catalog) -> None:
        self.store = store
        self.catalog = catalog
        self._handed_out: set[int] = set()  # ids given to people whose /start is still on its way

    def list(self) -> list[dict]:
        return [{"id": p.id, "name": p.name, "unit": p.unit, "position": p.position, "office": p.office,
                 "roles": list(p.roles), "user_id": None} for p in self.catalog.people]

    def phone(self, person_id: str) -> str | None:
        """For the page's 电话/短信 panel: the number the provider sandbox sees calls to."""
        person = next((p for p in self.catalog.people if p.id == person_id), None)
        return person.phone if person is not None else None

    async def open(self, person_id: str) -> Opening:
        return await asyncio.to_thread(self._open, person_id)

    def _open(self, person_id: str) -> Opening:
        with self.store.session() as s:
            row = s.get(Person, person_id)
            if row is None or row.retired_at is not None:
                raise KeyError(person_id)
            if row.telegram_id is not None:
                return Opening(row.telegram_id)
            taken = set(s.exec(select(Person.telegram_id).where(Person.telegram_id.is_not(None))).all())  # type: ignore[union-attr]
            user_id = FIRST_USER_ID
            while user_id in taken or user_id in self._handed_out:
                user_id += 1
            self._handed_out.add(user_id)
            token = invites.create(s, person_id, clock.now())
        return Opening(user_id, token)


async def start_sandbox(settings, store, catalog, port: int, *, clock_shifted: bool):
    """Start the sandbox for `dutybot run`; returns (sandbox, settings pointed at it)."""
    sandbox = Sandbox(limits=Limits(), token=None, allow_unknown_chats=True, bot_name=T.SANDBOX_BOT_NAME)
    sandbox.page.people = CataloguePeople(store, catalog)
    sandbox.page.show_clock = clock_shifted
    # The office's group chat, where an office member can /warn and watch the 叫应 board.
    sandbox.world.add_group(OFFICE_GROUP_ID, T.SANDBOX_OFFICE_GROUP)
    try:
        await sandbox.start("127.0.0.1", port)
    except OSError:
        await sandbox.start("127.0.0.1", 0)  # the default port is taken: any free one
    settings = replace(settings, bot_token=SANDBOX_TOKEN, api_base_url=sandbox.base_url,
                       file_base_url=sandbox.base_file_url)
    print(T.RUN_SANDBOX_BANNER.format(page_url=sandbox.page_url, base_url=sandbox.base_url,
                                      control_url=sandbox.control_url), flush=True)
    return sandbox, settings
