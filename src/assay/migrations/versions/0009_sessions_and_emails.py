"""sessions and e-mails: server-side browser sessions; e-mails unique per organization

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:00:00.000000

`user_sessions` holds one row per browser sign-in (the SHA-256 of the cookie's random
token, never the token). `users.email` was unique across all organizations, which told
one organization's admin which addresses another had; it becomes unique per
`(org_id, email)`, with a plain index on `email` for sign-in.

On SQLite the constraint change rebuilds `users` (batch mode). `assay.migrate.upgrade`
runs migrations with foreign keys off on SQLite, as SQLite's table-rebuild procedure
requires: with them on, dropping the old `users` table would cascade-delete every row
that references a user (API keys, memberships, answers).
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
# SQLite leaves the constraint of 0001 unnamed; batch mode names reflected constraints by this.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _email_constraint() -> str:
    """The name of the unique constraint on users.email alone (PostgreSQL: users_email_key)."""
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints('users'):
        if constraint['column_names'] == ['email'] and constraint['name']:
            return constraint['name']
    return 'uq_users_email'


def upgrade() -> None:
    op.create_table('user_sessions',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('org_id', ID, nullable=False),
    sa.Column('user_id', ID, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_sessions_expires_at'), ['expires_at'], unique=False)

    old = _email_constraint()
    with op.batch_alter_table('users', schema=None, naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint(old, type_='unique')
        batch_op.create_unique_constraint('uq_users_org_email', ['org_id', 'email'])
        batch_op.create_index('ix_users_email', ['email'], unique=False)


def downgrade() -> None:
    # fails (as it must) when an e-mail is now used in two organizations
    with op.batch_alter_table('users', schema=None, naming_convention=NAMING) as batch_op:
        batch_op.drop_index('ix_users_email')
        batch_op.drop_constraint('uq_users_org_email', type_='unique')
        batch_op.create_unique_constraint('uq_users_email', ['email'])

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_expires_at'))
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_user_sessions_org_id'))

    op.drop_table('user_sessions')
