"""audit log: append-only audit_events

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:00:00.000000

One row per administrative action or labeling decision. Triggers refuse UPDATE and
DELETE on the table, so the log stays append-only whatever code runs against it.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'audit_events',
        sa.Column('id', ID, primary_key=True, autoincrement=True),
        sa.Column('org_id', ID, sa.ForeignKey('organizations.id', ondelete='CASCADE'), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor_id', ID, nullable=True),
        sa.Column('actor', sa.String(320), nullable=False),
        sa.Column('via', sa.String(10), nullable=False),
        sa.Column('address', sa.String(64), nullable=False, server_default=''),
        sa.Column('action', sa.String(40), nullable=False),
        sa.Column('target_type', sa.String(20), nullable=False, server_default=''),
        sa.Column('target_id', sa.String(64), nullable=False, server_default=''),
        sa.Column('details', JSON, nullable=False),
    )
    op.create_index('ix_audit_events_org_id', 'audit_events', ['org_id', 'id'])
    op.create_index('ix_audit_events_org_action', 'audit_events', ['org_id', 'action', 'id'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$ "
                   "BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$ LANGUAGE plpgsql")
        op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")
    else:
        for verb in ('UPDATE', 'DELETE'):
            op.execute(f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                       "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    op.drop_index('ix_audit_events_org_action', table_name='audit_events')
    op.drop_index('ix_audit_events_org_id', table_name='audit_events')
    op.drop_table('audit_events')
