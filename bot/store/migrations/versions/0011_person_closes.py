"""未报告 of one unit, PostgreSQL: its people's instances read from the index alone.

ix_instance_person_due (person_id, due_at, id) carries status, period_key and duty_id (INCLUDE),
so a unit's period is 100 index-only ranges, not a parallel scan of every instance (a unit's year
sorted by period: 109 ms -> 5.6 ms at 1.5 M). SQLite has no INCLUDE and needs none (its unit
filter starts from the people already, bot/services/overdue.py).

And the windows open now in every status: each of the unit's people's windows
that close after now, from (person_id, closes_at, opens_at) alone (PostgreSQL counted them with a
parallel scan of the whole table, ≈ 100 ms at 1.5 M, because no index led with the person and
held the window; bench/RESULTS.md). PostgreSQL only: SQLite counts a unit's windows from its
people in ≈ 10 ms without it, and with it reads a unit's periods through it instead of
ix_instance_person_due (15-40 ms became 100-230 ms).

Revision ID: webperf_3
Revises: webperf_2
Create Date: 2026-12-05 02:45:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'webperf_3'
down_revision: str | None = 'webperf_2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _postgres() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade() -> None:
    if _postgres():
        op.create_index('ix_instance_person_closes', 'dutyinstance', ['person_id', 'closes_at', 'opens_at'], unique=False)
        op.drop_index('ix_instance_person_due', table_name='dutyinstance')
        op.create_index('ix_instance_person_due', 'dutyinstance', ['person_id', 'due_at', 'id'], unique=False,
                        postgresql_include=['status', 'period_key', 'duty_id'])


def downgrade() -> None:
    if _postgres():
        op.drop_index('ix_instance_person_closes', table_name='dutyinstance')
        op.drop_index('ix_instance_person_due', table_name='dutyinstance')
        op.create_index('ix_instance_person_due', 'dutyinstance', ['person_id', 'due_at', 'id'], unique=False)
