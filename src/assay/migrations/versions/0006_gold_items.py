"""gold items

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 01:17:14.541501
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('labeler_stats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gold_answered', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('gold_correct', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('project_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('paused_reason', sa.Text(), nullable=True))

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gold_rate', sa.Double(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('qualification_size', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('pause_below', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('review_below', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('aggregation', sa.String(length=30), server_default='auto', nullable=False))

    with op.batch_alter_table('task_answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('correct', sa.Boolean(), nullable=True))

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=12), server_default='task', nullable=False))
        batch_op.create_index('ix_tasks_gold', ['project_id', 'kind', 'id'], unique=False, sqlite_where=sa.text("kind <> 'task'"),
                              postgresql_where=sa.text("kind <> 'task'"))
        batch_op.add_column(sa.Column('expected_response', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_gold')
        batch_op.drop_column('expected_response')
        batch_op.drop_column('kind')

    with op.batch_alter_table('task_answers', schema=None) as batch_op:
        batch_op.drop_column('correct')

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('aggregation')
        batch_op.drop_column('review_below')
        batch_op.drop_column('pause_below')
        batch_op.drop_column('qualification_size')
        batch_op.drop_column('gold_rate')

    with op.batch_alter_table('project_members', schema=None) as batch_op:
        batch_op.drop_column('paused_reason')
        batch_op.drop_column('paused_at')

    with op.batch_alter_table('labeler_stats', schema=None) as batch_op:
        batch_op.drop_column('gold_correct')
        batch_op.drop_column('gold_answered')

