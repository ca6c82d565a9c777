"""workbench queue

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 23:53:23.934775
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('project_members',
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'user_id')
    )
    with op.batch_alter_table('project_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_members_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_members_user_id'), ['user_id'], unique=False)

    op.create_table('assignments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('public_id', sa.String(length=24), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('answer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('skip_reason', sa.Text(), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['task_answers.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('public_id'),
    sa.UniqueConstraint('task_id', 'user_id', 'kind', name='uq_assignments_task_user_kind')
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_status_expires', ['status', 'expires_at'], unique=False)
        batch_op.create_index('ix_assignments_user_project_status', ['user_id', 'project_id', 'status'], unique=False)

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_fraction', sa.Double(), nullable=False, server_default='0'))

    with op.batch_alter_table('task_answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('hypothesis_status', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('review_status', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('review_comment', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('corrects_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_foreign_key('fk_task_answers_reviewed_by', 'users', ['reviewed_by'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key('fk_task_answers_corrects_user_id', 'users', ['corrects_user_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_slots', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('queue_rank', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('review_state', sa.String(length=10), nullable=True))
        batch_op.create_index('ix_tasks_label_queue', ['project_id', 'queue_rank', 'id'], unique=False, sqlite_where=sa.text("status = 'pending' AND open_slots > 0 AND is_test = 0"), postgresql_where=sa.text("status = 'pending' AND open_slots > 0 AND is_test = false"))
        batch_op.create_index('ix_tasks_review_queue', ['project_id', 'queue_rank', 'id'], unique=False, sqlite_where=sa.text("status = 'pending' AND review_state = 'waiting'"), postgresql_where=sa.text("status = 'pending' AND review_state = 'waiting'"))

    # Existing pending tasks: their open slots are the labels still missing.
    op.execute(
        "UPDATE tasks SET queue_rank = -COALESCE(priority, 0), open_slots = CASE WHEN status = 'pending' THEN "
        "MAX_FN(required_labels - (SELECT COUNT(*) FROM task_answers a WHERE a.task_id = tasks.id AND a.source = 'human'), 0) ELSE 0 END"
        .replace("MAX_FN", "GREATEST" if op.get_bind().dialect.name == "postgresql" else "MAX")
    )


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_review_queue', sqlite_where=sa.text("status = 'pending' AND review_state = 'waiting'"), postgresql_where=sa.text("status = 'pending' AND review_state = 'waiting'"))
        batch_op.drop_index('ix_tasks_label_queue', sqlite_where=sa.text("status = 'pending' AND open_slots > 0 AND is_test = 0"), postgresql_where=sa.text("status = 'pending' AND open_slots > 0 AND is_test = false"))
        batch_op.drop_column('review_state')
        batch_op.drop_column('queue_rank')
        batch_op.drop_column('open_slots')

    with op.batch_alter_table('task_answers', schema=None) as batch_op:
        batch_op.drop_constraint('fk_task_answers_corrects_user_id', type_='foreignkey')
        batch_op.drop_constraint('fk_task_answers_reviewed_by', type_='foreignkey')
        batch_op.drop_column('corrects_user_id')
        batch_op.drop_column('review_comment')
        batch_op.drop_column('reviewed_by')
        batch_op.drop_column('review_status')
        batch_op.drop_column('hypothesis_status')
        batch_op.drop_column('active')

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('review_fraction')

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_user_project_status')
        batch_op.drop_index('ix_assignments_status_expires')

    op.drop_table('assignments')
    with op.batch_alter_table('project_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_project_members_org_id'))

    op.drop_table('project_members')
