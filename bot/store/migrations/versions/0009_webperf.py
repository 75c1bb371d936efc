"""web console speed: 未报告 sorted by unit walks people by (unit, id), then each one's instances by due;
the windows open now in one status read from (status, closes_at, opens_at, due_at); id at the
end of ix_instance_period and ix_instance_person, so by period or person PostgreSQL reads a page in
order (SQLite's indexes end with the rowid, the id, already); status, due_at and id after
ix_instance_closes's (closes_at, opens_at), so the windows open now are counted and sorted by due
or status from the index alone

Revision ID: webperf_1
Revises: outbox_claim_1
Create Date: 2026-12-05 01:45:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'webperf_1'
down_revision: str | None = 'outbox_claim_1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for name, columns in (('ix_instance_period', ['period_key', 'status', 'id']),
                          ('ix_instance_person', ['person_id', 'status', 'id']),
                          ('ix_instance_closes', ['closes_at', 'opens_at', 'status', 'due_at', 'id'])):
        op.drop_index(name, table_name='dutyinstance')
        op.create_index(name, 'dutyinstance', columns, unique=False)
    op.create_index('ix_person_unit_person', 'person', ['unit_id', 'id'], unique=False)
    op.create_index('ix_instance_person_due', 'dutyinstance', ['person_id', 'due_at', 'id'], unique=False)
    op.create_index('ix_instance_status_closes', 'dutyinstance', ['status', 'closes_at', 'opens_at', 'due_at'],
                    unique=False)


def downgrade() -> None:
    for name, columns in (('ix_instance_period', ['period_key', 'status']),
                          ('ix_instance_person', ['person_id', 'status']),
                          ('ix_instance_closes', ['closes_at', 'opens_at'])):
        op.drop_index(name, table_name='dutyinstance')
        op.create_index(name, 'dutyinstance', columns, unique=False)
    op.drop_index('ix_instance_status_closes', table_name='dutyinstance')
    op.drop_index('ix_instance_person_due', table_name='dutyinstance')
    op.drop_index('ix_person_unit_person', table_name='person')
