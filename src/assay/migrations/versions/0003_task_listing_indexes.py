"""task listing indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 22:31:21.824804
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_org_mode_batch_id', ['org_id', 'is_test', 'batch_id', 'id'], unique=False)
        batch_op.create_index('ix_tasks_org_mode_project_id', ['org_id', 'is_test', 'project_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_org_mode_project_id')
        batch_op.drop_index('ix_tasks_org_mode_batch_id')

