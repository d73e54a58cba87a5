"""experiment decisions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('experiment_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('experiment', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('ship', sa.String(length=64), nullable=True),
    sa.Column('decided_by', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("action IN ('stop', 'decide')", name=op.f('ck_experiment_decisions_action_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment_decisions'))
    )
    with op.batch_alter_table('experiment_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_experiment_decisions_experiment', ['experiment', 'decided_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('experiment_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_experiment_decisions_experiment')

    op.drop_table('experiment_decisions')
