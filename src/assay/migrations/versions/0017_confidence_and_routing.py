"""task confidence as a column, and routing by accuracy

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 15:00:00.000000

`tasks.confidence` holds the consensus confidence that `tasks.quality` also carries
(kept equal by an attribute event on `Task.quality`), indexed with the project, so the task browser's
confidence filter and sort and the claim's "least certain first" read an index instead of
every task's JSON. Projects get `route_by_accuracy`: the most accurate people available
get the least certain tasks first.
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.add_column(sa.Column('confidence', sa.Float(), nullable=True))
    with op.batch_alter_table('projects') as batch:
        batch.add_column(sa.Column('route_by_accuracy', sa.Boolean(), nullable=False, server_default=sa.false()))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE tasks SET confidence = (quality->>'confidence')::float WHERE quality ? 'confidence' "
                   "AND jsonb_typeof(quality->'confidence') = 'number'")
    else:
        op.execute("UPDATE tasks SET confidence = json_extract(quality, '$.confidence') WHERE quality IS NOT NULL "
                   "AND json_type(quality, '$.confidence') IN ('real', 'integer')")
    op.create_index('ix_tasks_project_confidence', 'tasks', ['project_id', 'confidence'])
    pg = op.get_bind().dialect.name == 'postgresql'
    op.create_index('ix_tasks_uncertain_queue', 'tasks', ['project_id', 'confidence', 'queue_rank', 'id'],
                    sqlite_where=sa.text("status = 'pending' AND open_slots > 0 AND is_test = 0 AND confidence IS NOT NULL"),
                    postgresql_where=sa.text(f"status = 'pending' AND open_slots > 0 AND is_test = {'false' if pg else '0'} "
                                             "AND confidence IS NOT NULL"))


def downgrade() -> None:
    op.drop_index('ix_tasks_uncertain_queue', table_name='tasks')
    op.drop_index('ix_tasks_project_confidence', table_name='tasks')
    with op.batch_alter_table('projects') as batch:
        batch.drop_column('route_by_accuracy')
    with op.batch_alter_table('tasks') as batch:
        batch.drop_column('confidence')
