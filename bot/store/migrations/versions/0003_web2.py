"""web2: exemption revocations, calendar feeds

Revision ID: web2_1
Revises: web_1
Create Date: 2026-12-04 21:55:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.models

revision: str = 'web2_1'
down_revision: str | None = 'web_1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('exemption', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', bot.store.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('revoke_reason', sa.Text(), nullable=False, server_default=''))

    op.create_table('calendarfeed',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', bot.store.models.UTCDateTime(), nullable=True),
    sa.Column('last_used_at', bot.store.models.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('calendarfeed', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendarfeed_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('calendarfeed', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendarfeed_person_id'))
    op.drop_table('calendarfeed')
    with op.batch_alter_table('exemption', schema=None) as batch_op:
        batch_op.drop_column('revoke_reason')
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('revoked_by')
