"""counter shards: no hot counter rows on PostgreSQL

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 14:10:00.000000

`task_counts` and `activity_rollups` get a `shard` column in their primary key. On
PostgreSQL each transaction adds its counter deltas to one of 16 shards of a key (a
project's completions no longer queue on one row lock); readers sum the shards and the
background jobs fold them back into shard 0. SQLite keeps everything in shard 0.
`instance_secrets` holds the secret key on PostgreSQL when ASSAY_SECRET_KEY is not set, so
every app process and worker, on any machine, signs with the same key.
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

KEYS = {
    'task_counts': ['org_id', 'is_test', 'project_id', 'batch_id', 'status'],
    'activity_rollups': ['project_id', 'user_id', 'day', 'hour'],
}


def _set_key(table: str, columns: list[str]) -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT {table}_pkey')
        op.create_primary_key(f'{table}_pkey', table, columns)
        return
    # SQLite: rebuild the table from its reflected definition with the new primary key
    old = sa.Table(table, sa.MetaData(), autoload_with=op.get_bind())
    new = sa.Table(table, sa.MetaData(), *(sa.Column(c.name, c.type, nullable=c.nullable, server_default=c.server_default,
                                                     primary_key=c.name in columns, autoincrement=False) for c in old.columns),
                   *(sa.ForeignKeyConstraint([e.parent.name for e in fk.elements], [e.target_fullname for e in fk.elements],
                                             ondelete=fk.ondelete) for fk in old.foreign_key_constraints),
                   *(sa.Index(i.name, *[c.name for c in i.columns]) for i in old.indexes))
    with op.batch_alter_table(table, copy_from=new, recreate='always'):
        pass


def upgrade() -> None:
    # instance-wide secrets shared by every process and machine of one database
    op.create_table('instance_secrets', sa.Column('name', sa.String(50), primary_key=True), sa.Column('value', sa.String(200), nullable=False))
    for table, key in KEYS.items():
        op.add_column(table, sa.Column('shard', sa.SmallInteger(), nullable=False, server_default='0'))
        _set_key(table, [*key, 'shard'])
    op.create_index('ix_activity_rollups_shards', 'activity_rollups', ['project_id'], postgresql_where=sa.text('shard > 0'),
                    sqlite_where=sa.text('shard > 0'))


def downgrade() -> None:
    op.drop_table('instance_secrets')
    op.drop_index('ix_activity_rollups_shards', table_name='activity_rollups')
    conn = op.get_bind()
    for table, key in KEYS.items():
        # fold the shards first: the old key has room for one row per key
        others = [c.name for c in sa.Table(table, sa.MetaData(), autoload_with=conn).columns if c.name not in key and c.name != 'shard']
        sums = ', '.join(f'MIN({c})' if c == 'org_id' else f'SUM({c})' for c in others)
        rows = conn.execute(sa.text(f'SELECT {", ".join(key)}, {sums} FROM {table} GROUP BY {", ".join(key)}')).all()
        op.execute(f'DELETE FROM {table}')
        _set_key(table, key)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('shard')
        names = [*key, *others]
        insert = sa.text(f'INSERT INTO {table} ({", ".join(names)}) VALUES ({", ".join(":" + n for n in names)})')
        for row in rows:
            conn.execute(insert, dict(zip(names, row)))
