"""outbox claim index: (state, priority, id) instead of (state, priority, not_before, id)

The sender claims the oldest ready rows in (priority, id) order. With not_before between priority
and id the index could not give that order, so every claim read and sorted every pending row:
~4 ms a claim with 10,000 queued (a paid-broadcast 叫应), ~8 ms with the held chats excluded. In
(priority, id) order the scan stops after the rows it needs (bench/RESULTS.md, issue 14).

Revision ID: outbox_claim_1
Revises: callouts_1
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'outbox_claim_1'
down_revision: str | None = 'callouts_1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_ready')
        batch_op.create_index('ix_outbox_claim', ['state', 'priority', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_claim')
        batch_op.create_index('ix_outbox_ready', ['state', 'priority', 'not_before', 'id'], unique=False)
