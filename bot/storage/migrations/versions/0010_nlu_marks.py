"""customer messages marked as misunderstood, with the intent they should have had

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('nlu_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=255), nullable=False),
    sa.Column('message_ts', sa.Float(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('predicted_intent', sa.String(length=64), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('chosen_intent', sa.String(length=64), nullable=False),
    sa.Column('marked_by', sa.String(length=120), nullable=False),
    sa.Column('marked_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reviewed_by', sa.String(length=120), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'rejected')", name=op.f('ck_nlu_marks_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nlu_marks')),
    sa.UniqueConstraint('conversation_id', 'message_ts', name='uq_nlu_marks_message')
    )
    with op.batch_alter_table('nlu_marks', schema=None) as batch_op:
        batch_op.create_index('ix_nlu_marks_status_intent', ['status', 'chosen_intent'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('nlu_marks', schema=None) as batch_op:
        batch_op.drop_index('ix_nlu_marks_status_intent')

    op.drop_table('nlu_marks')
