"""order proof attempts

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('order_proof_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_number', sa.String(length=16), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=True),
    sa.Column('conversation_id', sa.String(length=255), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('attempted_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_proof_attempts'))
    )
    with op.batch_alter_table('order_proof_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_order_proof_attempts_client', ['client', 'attempted_at'], unique=False)
        batch_op.create_index('ix_order_proof_attempts_conversation', ['conversation_id', 'attempted_at'], unique=False)
        batch_op.create_index('ix_order_proof_attempts_order', ['order_number', 'attempted_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('order_proof_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_order_proof_attempts_order')
        batch_op.drop_index('ix_order_proof_attempts_conversation')
        batch_op.drop_index('ix_order_proof_attempts_client')

    op.drop_table('order_proof_attempts')
