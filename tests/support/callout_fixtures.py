"""A small catalogue with a 叫应 policy in seconds, and helpers that play the outbox sender's part
in service-level tests (marking rows sent, as bot/telegram/sender.py does after Telegram says ok)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot.store.models import Outbox
from bot.store.sync import sync_catalog
from schedules import load_catalog_text

CATALOG = """
timezone: Asia/Shanghai
units:
  - id: 园区管委会
    children: [甲部, 乙部, 丙部]
roles:
  主要负责人: 主要负责人
  分管负责人: 分管负责人
  部门负责人: 部门负责人
  安委办: 安委办
people:
  - {name: 张主任, unit: 园区管委会, roles: [主要负责人], deputy: 李分管, telegram_id: 101}
  - {name: 李分管, unit: 园区管委会, roles: [分管负责人], superior: 张主任, telegram_id: 102}
  - {name: 甲部长, unit: 甲部, roles: [部门负责人], superior: 李分管, deputy: 甲副部长, telegram_id: 103}
  - {name: 甲副部长, unit: 甲部, roles: [], superior: 甲部长, telegram_id: 104}
  - {name: 乙部长, unit: 乙部, roles: [部门负责人], superior: 李分管, telegram_id: 105}
  - {name: 丙部长, unit: 丙部, roles: [部门负责人], superior: 张主任}
  - {name: 孙安, unit: 园区管委会, roles: [安委办], office: true, superior: 李分管, telegram_id: 106}
duties: []
callouts:
  red:
    who: [主要负责人, 分管负责人, 部门负责人]
    ack_within: 3s
    recall_every: 2s
    recalls: 2
    escalate: [superior, office]
    report_within: 10s
    summary_within: 30s
  yellow:
    who: [部门负责人]
    ack_within: 3s
    recall_every: 2s
    recalls: 1
    escalate: [deputy, superior, office]
    report_within: 10s
"""

T0 = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def small_catalog():
    return load_catalog_text(CATALOG, "callout-test.yaml")


def seed(store, catalog) -> None:
    with store.session() as s:
        sync_catalog(s, catalog, T0 - timedelta(days=1))


def deliver(session: Session, at: datetime, *, chat_id: int | None = None) -> list[Outbox]:
    """Mark queued messages sent at `at` (what the sender does once Telegram accepted them)."""
    query = select(Outbox).where(Outbox.state == "pending")
    if chat_id is not None:
        query = query.where(Outbox.chat_id == chat_id)
    rows = list(session.exec(query.order_by(Outbox.priority, Outbox.id)))
    for row in rows:
        row.state, row.sent_at = "sent", at
    session.flush()
    return rows


def texts(rows: list[Outbox], chat_id: int) -> list[str]:
    return [r.payload.get("text", "") for r in rows if r.chat_id == chat_id]


# -- one database per module and backend, emptied between tests (creating and migrating a
# database per test costs over a second on PostgreSQL) -----------------------------------------
import pytest  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

from bot.store import Store  # noqa: E402


def _backends():
    from conftest import BACKENDS

    return BACKENDS


@pytest.fixture(scope="module", params=_backends())
def module_store(request, tmp_path_factory):
    from conftest import make_database_url

    url, drop = make_database_url(request.param, tmp_path_factory.mktemp("callout-db"))
    store = Store(url)
    yield store
    store.dispose()
    drop()


def wipe(store: Store) -> None:
    with store.session() as s:
        for table in reversed(SQLModel.metadata.sorted_tables):
            s.exec(table.delete())


# `cat` and `db` for the service-level tests: import callout_cat and callout_db (with module_store);
# pytest knows them by these names, and the tests' `db`/`cat` parameters then shadow no import.
@pytest.fixture(name="cat")
def callout_cat():
    return small_catalog()


@pytest.fixture(name="db")
def callout_db(module_store, cat):
    """module_store emptied, then seeded with the small catalogue."""
    wipe(module_store)
    seed(module_store, cat)
    return module_store


def ack_button(message: dict) -> str | None:
    """The callback data of a sandbox message's 收到 button, if it has one."""
    for row in (message.get("reply_markup") or {}).get("inline_keyboard") or []:
        for b in row:
            if b.get("callback_data", "").startswith("c:ack:"):
                return b["callback_data"]
    return None
