"""digest: a draft remembers the reminder or digest it replies to (check-in routing)

Revision ID: digest_2
Revises: cluster_1
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'digest_2'
down_revision: str | None = 'cluster_1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('checkindraft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_instances', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('checkindraft', schema=None) as batch_op:
        batch_op.drop_column('reply_instances')
