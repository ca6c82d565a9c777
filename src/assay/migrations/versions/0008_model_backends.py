"""model backends

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 03:14:51.160422
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('project_models',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('backend', sa.String(length=10), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('timeout_seconds', sa.Float(), nullable=False),
    sa.Column('features', sa.String(length=20), nullable=False),
    sa.Column('retrain_every', sa.Integer(), nullable=False),
    sa.Column('min_train_labels', sa.Integer(), nullable=False),
    sa.Column('prelabels', sa.Boolean(), nullable=False),
    sa.Column('queue_strategy', sa.String(length=30), nullable=False),
    sa.Column('autoaccept_target', sa.Float(), nullable=True),
    sa.Column('autoaccept_confidence', sa.Float(), nullable=False),
    sa.Column('audit_fraction', sa.Float(), nullable=False),
    sa.Column('autoaccept_rule', sa.String(length=20), server_default='lowest', nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('trained_labels', sa.Integer(), nullable=False),
    sa.Column('trained_at', sa.DateTime(), nullable=True),
    sa.Column('train_seconds', sa.Float(), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('calibration', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('order_stale', sa.Boolean(), nullable=False),
    sa.Column('healthy', sa.Boolean(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', sa.DateTime(), nullable=True),
    sa.Column('busy_until', sa.DateTime(), nullable=True),
    sa.Column('suspects', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id')
    )
    with op.batch_alter_table('project_models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_models_org_id'), ['org_id'], unique=False)

    op.create_table('predictions',
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('model_version', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('probabilities', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('auto_accepted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id')
    )
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.create_index('ix_predictions_project_version', ['project_id', 'model_version'], unique=False)
    # queue ranks get a band per priority (active learning orders within it): -priority
    # becomes -priority * 1,000,000 + 999,999 (priority clamped to ±1000)
    op.execute("UPDATE tasks SET queue_rank = -(CASE WHEN COALESCE(priority, 0) > 1000 THEN 1000 WHEN COALESCE(priority, 0) < -1000 "
               "THEN -1000 ELSE COALESCE(priority, 0) END) * 1000000 + 999999")


def downgrade() -> None:
    op.execute("UPDATE tasks SET queue_rank = -COALESCE(priority, 0)")
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.drop_index('ix_predictions_project_version')

    op.drop_table('predictions')
    with op.batch_alter_table('project_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_models_org_id'))

    op.drop_table('project_models')
