"""monitoring alerts and who was told of them

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('metric', sa.String(length=64), nullable=True),
    sa.Column('experiment', sa.String(length=80), nullable=True),
    sa.Column('variant', sa.String(length=64), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('current_value', sa.Float(), nullable=True),
    sa.Column('baseline_value', sa.Float(), nullable=True),
    sa.Column('n_current', sa.Integer(), nullable=True),
    sa.Column('n_baseline', sa.Integer(), nullable=True),
    sa.Column('difference', sa.Float(), nullable=True),
    sa.Column('ci_low', sa.Float(), nullable=True),
    sa.Column('ci_high', sa.Float(), nullable=True),
    sa.Column('p_value', sa.Float(), nullable=True),
    sa.Column('raised_at', sa.DateTime(), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('metric_drop', 'guardrail_harmed', 'srm')", name=op.f('ck_alerts_kind_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_raised_at', ['raised_at'], unique=False)
        # At most one open alert per condition.
        batch_op.create_index(
            'uq_alerts_open_key', ['key'], unique=True,
            sqlite_where=sa.text('resolved_at IS NULL'),
            postgresql_where=sa.text('resolved_at IS NULL'),
        )

    op.create_table('alert_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('manager', sa.String(length=300), nullable=False),
    sa.Column('told_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_notices_alert_id_alerts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_notices')),
    sa.UniqueConstraint('alert_id', 'manager', name='uq_alert_notices_manager')
    )


def downgrade() -> None:
    op.drop_table('alert_notices')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('uq_alerts_open_key')
        batch_op.drop_index('ix_alerts_raised_at')

    op.drop_table('alerts')
