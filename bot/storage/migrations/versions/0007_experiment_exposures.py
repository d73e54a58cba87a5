"""experiment exposures

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('experiment_exposures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('experiment', sa.String(length=80), nullable=False),
    sa.Column('variant', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=300), nullable=False),
    sa.Column('conversation_id', sa.String(length=255), nullable=False),
    sa.Column('session_key', sa.String(length=64), nullable=False),
    sa.Column('exposed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment_exposures')),
    sa.UniqueConstraint('experiment', 'conversation_id', 'session_key', name='uq_experiment_exposures_session')
    )
    with op.batch_alter_table('experiment_exposures', schema=None) as batch_op:
        batch_op.create_index('ix_experiment_exposures_experiment', ['experiment', 'variant', 'exposed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('experiment_exposures', schema=None) as batch_op:
        batch_op.drop_index('ix_experiment_exposures_experiment')

    op.drop_table('experiment_exposures')
