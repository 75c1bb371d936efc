"""cluster: the leader lease, claims on inbox rows, the outbox claim's holder; a covering index
for the per-unit "not reported" counts

Revision ID: cluster_1
Revises: web_2
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.models

revision: str = "cluster_1"
down_revision: str | None = "web_2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leaderlease",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", bot.store.models.UTCDateTime(), nullable=True),
        sa.Column("acquired_at", bot.store.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("inboxupdate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", bot.store.models.UTCDateTime(), nullable=True))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
    with op.batch_alter_table("dutyinstance", schema=None) as batch_op:
        batch_op.create_index("ix_instance_open_person", ["status", "person_id", "closes_at", "opens_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dutyinstance", schema=None) as batch_op:
        batch_op.drop_index("ix_instance_open_person")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
    with op.batch_alter_table("inboxupdate", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("chat_key")
    op.drop_table("leaderlease")
