"""未报告's exact totals on PostgreSQL: instance counts per (due moment, duty, status), kept by triggers

Revision ID: webperf_2
Revises: webperf_1
Create Date: 2026-12-05 01:40:00

The triggers are statement-level with transition tables: one grouped INSERT of deltas per
statement that changes instances (a year's 1.5 M rows created in one statement add a few hundred
delta rows, a check-in's one-row UPDATE two), in the same transaction as the change, whatever
wrote it (services, jobs, another process). An UPDATE that leaves due, duty and status alone nets
to nothing. Existing instances are counted into instancecount here.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.models

revision: str = 'webperf_2'
down_revision: str | None = 'webperf_1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = """
CREATE FUNCTION dutybot_count_instances() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO instancecountdelta (due_at, duty_id, status, n)
        SELECT due_at, duty_id, status, count(*) FROM new_rows GROUP BY 1, 2, 3;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO instancecountdelta (due_at, duty_id, status, n)
        SELECT due_at, duty_id, status, -count(*) FROM old_rows GROUP BY 1, 2, 3;
    ELSE
        INSERT INTO instancecountdelta (due_at, duty_id, status, n)
        SELECT due_at, duty_id, status, sum(n) FROM (
            SELECT due_at, duty_id, status, -1 AS n FROM old_rows
            UNION ALL SELECT due_at, duty_id, status, 1 FROM new_rows) AS changed
        GROUP BY 1, 2, 3 HAVING sum(n) <> 0;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER dutyinstance_count_insert AFTER INSERT ON dutyinstance
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dutybot_count_instances();
CREATE TRIGGER dutyinstance_count_update AFTER UPDATE ON dutyinstance
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dutybot_count_instances();
CREATE TRIGGER dutyinstance_count_delete AFTER DELETE ON dutyinstance
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION dutybot_count_instances();
"""


def upgrade() -> None:
    op.create_table('instancecount',
    sa.Column('due_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('duty_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('due_at', 'duty_id', 'status')
    )
    op.create_table('instancecountdelta',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('due_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('duty_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("LOCK TABLE dutyinstance IN SHARE MODE")  # no change between the count and the triggers
        op.execute("INSERT INTO instancecount (due_at, duty_id, status, n) "
                   "SELECT due_at, duty_id, status, count(*) FROM dutyinstance GROUP BY 1, 2, 3")
        op.execute(TRIGGERS)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for what in ('insert', 'update', 'delete'):
            op.execute(f"DROP TRIGGER dutyinstance_count_{what} ON dutyinstance")
        op.execute("DROP FUNCTION dutybot_count_instances()")
    op.drop_table('instancecountdelta')
    op.drop_table('instancecount')
