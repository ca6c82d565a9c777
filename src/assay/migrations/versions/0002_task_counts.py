"""task counts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 22:11:51.779450
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('task_counts',
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('is_test', sa.Boolean(), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'is_test', 'project_id', 'batch_id', 'status')
    )
    # counts of the tasks already stored
    op.execute(
        "INSERT INTO task_counts (org_id, is_test, project_id, batch_id, status, n) "
        "SELECT org_id, is_test, project_id, COALESCE(batch_id, 0), status, COUNT(*) FROM tasks "
        "GROUP BY org_id, is_test, project_id, COALESCE(batch_id, 0), status"
    )


def downgrade() -> None:
    op.drop_table('task_counts')
