"""GenAI: LLM judges (OpenAI-compatible chat backends and their verdicts), live chat turns, evaluation runs

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-03 13:00:00.000000

project_models gains the settings of an `openai` backend (the model name, the API key, the
temperature, the concurrency, prompt templates, whether pairs are judged in both orders, whether its verdict votes in consolidation, its
estimated accuracy);
judge_verdicts keeps each task's judge verdicts (both orders, consistent or not);
chat_turns keeps the turns of live chat (multichat) in order; evaluation_runs keeps
evaluation sets run against model endpoints, their responses, verdicts and tasks.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('project_models') as batch:
        batch.add_column(sa.Column('model_name', sa.String(200), nullable=True))
        batch.add_column(sa.Column('api_key', sa.Text(), nullable=True))
        batch.add_column(sa.Column('temperature', sa.Float(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('concurrency', sa.Integer(), nullable=False, server_default='4'))
        batch.add_column(sa.Column('prompts', JSON, nullable=True))
        batch.add_column(sa.Column('swap_positions', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column('judge_votes', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('judge_accuracy', sa.Float(), nullable=True))
    op.create_table(
        'judge_verdicts',
        sa.Column('task_id', ID, sa.ForeignKey('tasks.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('org_id', ID, sa.ForeignKey('organizations.id', ondelete='CASCADE'), nullable=False),
        sa.Column('project_id', ID, sa.ForeignKey('projects.id', ondelete='CASCADE'), nullable=False),
        sa.Column('model_version', sa.Integer(), nullable=False),
        sa.Column('judge', sa.String(200), nullable=False),
        sa.Column('verdicts', JSON, nullable=False),
        sa.Column('consistent', sa.Boolean(), nullable=True),
        sa.Column('response', JSON, nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_judge_verdicts_project', 'judge_verdicts', ['project_id', 'model_version'])
    op.create_table(
        'chat_turns',
        sa.Column('id', ID, primary_key=True, autoincrement=True),
        sa.Column('org_id', ID, sa.ForeignKey('organizations.id', ondelete='CASCADE'), nullable=False),
        sa.Column('task_id', ID, sa.ForeignKey('tasks.id', ondelete='CASCADE'), nullable=False),
        sa.Column('assignment_id', ID, sa.ForeignKey('assignments.id', ondelete='CASCADE'), nullable=False),
        sa.Column('user_id', ID, sa.ForeignKey('users.id', ondelete='SET NULL'), nullable=True),
        sa.Column('turn', sa.Integer(), nullable=False),
        sa.Column('prompt', sa.Text(), nullable=False),
        sa.Column('replies', JSON, nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('assignment_id', 'turn', name='uq_chat_turns_assignment_turn'),
    )
    op.create_index('ix_chat_turns_task_id', 'chat_turns', ['task_id'])
    op.create_table(
        'evaluation_runs',
        sa.Column('id', ID, primary_key=True, autoincrement=True),
        sa.Column('public_id', sa.String(24), nullable=False, unique=True),
        sa.Column('org_id', ID, sa.ForeignKey('organizations.id', ondelete='CASCADE'), nullable=False),
        sa.Column('project_id', ID, sa.ForeignKey('projects.id', ondelete='CASCADE'), nullable=False),
        sa.Column('name', sa.String(200), nullable=False),
        sa.Column('status', sa.String(12), nullable=False),
        sa.Column('config', JSON, nullable=False),
        sa.Column('items', JSON, nullable=False),
        sa.Column('results', JSON, nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
    )
    op.create_index('ix_evaluation_runs_project', 'evaluation_runs', ['project_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_evaluation_runs_project', table_name='evaluation_runs')
    op.drop_table('evaluation_runs')
    op.drop_index('ix_chat_turns_task_id', table_name='chat_turns')
    op.drop_table('chat_turns')
    op.drop_index('ix_judge_verdicts_project', table_name='judge_verdicts')
    op.drop_table('judge_verdicts')
    with op.batch_alter_table('project_models') as batch:
        for column in ('judge_accuracy', 'judge_votes', 'swap_positions', 'prompts', 'concurrency', 'temperature', 'api_key', 'model_name'):
            batch.drop_column(column)
