"""export jobs: background exports with progress and a download link

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-04 12:00:00.000000
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'export_jobs',
        sa.Column('id', ID, primary_key=True, autoincrement=True),
        sa.Column('public_id', sa.String(24), nullable=False, unique=True),
        sa.Column('org_id', ID, sa.ForeignKey('organizations.id', ondelete='CASCADE'), nullable=False),
        sa.Column('project_id', ID, sa.ForeignKey('projects.id', ondelete='CASCADE'), nullable=False),
        sa.Column('created_by', sa.String(320), nullable=False, server_default=''),
        sa.Column('is_test', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('format', sa.String(20), nullable=False),
        sa.Column('filters', JSON, nullable=False),
        sa.Column('status', sa.String(10), nullable=False, server_default='queued'),
        sa.Column('done', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('total', sa.Integer(), nullable=True),
        sa.Column('size', sa.BigInteger(), nullable=True),
        sa.Column('filename', sa.String(300), nullable=False, server_default=''),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
    )
    op.create_index('ix_export_jobs_project', 'export_jobs', ['org_id', 'project_id', 'id'])
    op.create_index('ix_export_jobs_status', 'export_jobs', ['status', 'id'])


def downgrade() -> None:
    op.drop_index('ix_export_jobs_status', table_name='export_jobs')
    op.drop_index('ix_export_jobs_project', table_name='export_jobs')
    op.drop_table('export_jobs')
