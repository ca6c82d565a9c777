"""team lead's cockpit: activity rollups, skills, pay rates, task routing and content warnings

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 12:00:00.000000

`activity_rollups` holds one row per (project, person, day, hour) with the counts the
dashboards sum (written in the transaction of each answer, completion and verdict), so a
chart over a million answers reads a few thousand rows. Tasks get routing columns the
claim reads (a skill requirement, a person it is reserved for, a content warning).
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'activity_rollups',
        sa.Column('project_id', ID, sa.ForeignKey('projects.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('user_id', ID, primary_key=True, autoincrement=False),
        sa.Column('day', sa.Date(), primary_key=True),
        sa.Column('hour', sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column('org_id', ID, sa.ForeignKey('organizations.id', ondelete='CASCADE'), nullable=False),
        sa.Column('created', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('labels', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('annotations', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('active_seconds', sa.Float(), nullable=False, server_default='0'),
        sa.Column('held_seconds', sa.Float(), nullable=False, server_default='0'),
        sa.Column('completed', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('reviewed', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('rejected', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('consolidated', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('agreed', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('gold_answered', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('gold_correct', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('flagged', sa.Integer(), nullable=False, server_default='0'),
    )
    op.create_index('ix_activity_rollups_org_day', 'activity_rollups', ['org_id', 'day'])
    op.create_index('ix_activity_rollups_user_day', 'activity_rollups', ['user_id', 'day'])
    op.create_table(
        'user_skills',
        sa.Column('user_id', ID, sa.ForeignKey('users.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('name', sa.String(64), primary_key=True),
        sa.Column('org_id', ID, sa.ForeignKey('organizations.id', ondelete='CASCADE'), nullable=False, index=True),
        sa.Column('level', sa.Integer(), nullable=False, server_default='1'),
        sa.Column('source', sa.String(20), nullable=False, server_default='manual'),
        sa.Column('granted_at', sa.DateTime(), nullable=False),
    )
    op.create_table(
        'pay_rates',
        sa.Column('id', ID, primary_key=True, autoincrement=True),
        sa.Column('org_id', ID, sa.ForeignKey('organizations.id', ondelete='CASCADE'), nullable=False, index=True),
        sa.Column('user_id', ID, sa.ForeignKey('users.id', ondelete='CASCADE'), nullable=True),
        sa.Column('project_id', ID, sa.ForeignKey('projects.id', ondelete='CASCADE'), nullable=True),
        sa.Column('unit', sa.String(10), nullable=False),
        sa.Column('amount', sa.Float(), nullable=False),
        sa.Column('currency', sa.String(3), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
    )
    with op.batch_alter_table('tasks') as batch:
        batch.add_column(sa.Column('required_skill', sa.String(64), nullable=True))
        batch.add_column(sa.Column('required_level', sa.Integer(), nullable=False, server_default='1'))
        batch.add_column(sa.Column('reserved_for', ID, nullable=True))
        batch.add_column(sa.Column('content_warning', sa.String(200), nullable=True))
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('avoid_flagged', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('exposure_budget', sa.Integer(), nullable=True))
    _backfill_rollups()


def _backfill_rollups() -> None:
    """Answers and completions stored before this revision, summed into their hours."""
    pg = op.get_bind().dialect.name == 'postgresql'
    day = "CAST({c} AS DATE)" if pg else "date({c})"
    hour = "CAST(EXTRACT(HOUR FROM {c}) AS INTEGER)" if pg else "CAST(strftime('%H', {c}) AS INTEGER)"
    answers = day.format(c='a.created_at'), hour.format(c='a.created_at')
    op.execute(
        "INSERT INTO activity_rollups (project_id, user_id, day, hour, org_id, labels, annotations, active_seconds, gold_answered, gold_correct) "
        f"SELECT t.project_id, a.user_id, {answers[0]}, {answers[1]}, a.org_id, "
        "SUM(CASE WHEN a.source = 'human' THEN 1 ELSE 0 END), SUM(CASE WHEN a.source = 'human' THEN 1 ELSE 0 END), "
        "COALESCE(SUM(a.active_seconds), 0), SUM(CASE WHEN a.source = 'gold' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN a.correct THEN 1 ELSE 0 END) "
        f"FROM task_answers a JOIN tasks t ON t.id = a.task_id WHERE a.source IN ('human', 'gold') AND a.user_id IS NOT NULL "
        f"AND t.is_test = {'false' if pg else '0'} "
        f"GROUP BY t.project_id, a.user_id, {answers[0]}, {answers[1]}, a.org_id")
    created = day.format(c='created_at'), hour.format(c='created_at')
    done = day.format(c='completed_at'), hour.format(c='completed_at')
    live = f"kind = 'task' AND is_test = {'false' if pg else '0'}"
    op.execute(
        "INSERT INTO activity_rollups (project_id, user_id, day, hour, org_id, created) "
        f"SELECT project_id, 0, {created[0]}, {created[1]}, org_id, COUNT(*) FROM tasks WHERE {live} "
        f"GROUP BY project_id, {created[0]}, {created[1]}, org_id")
    conflict = "ON CONFLICT (project_id, user_id, day, hour) DO UPDATE SET completed = excluded.completed"
    op.execute(
        "INSERT INTO activity_rollups (project_id, user_id, day, hour, org_id, completed) "
        f"SELECT project_id, 0, {done[0]}, {done[1]}, org_id, COUNT(*) FROM tasks "
        f"WHERE status = 'completed' AND completed_at IS NOT NULL AND {live} "
        f"GROUP BY project_id, {done[0]}, {done[1]}, org_id {conflict}")


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('exposure_budget')
        batch.drop_column('avoid_flagged')
    with op.batch_alter_table('tasks') as batch:
        for column in ('content_warning', 'reserved_for', 'required_level', 'required_skill'):
            batch.drop_column(column)
    op.drop_table('pay_rates')
    op.drop_table('user_skills')
    op.drop_index('ix_activity_rollups_user_day', table_name='activity_rollups')
    op.drop_index('ix_activity_rollups_org_day', table_name='activity_rollups')
    op.drop_table('activity_rollups')
