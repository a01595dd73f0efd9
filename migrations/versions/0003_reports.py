"""reports: revisits done, satisfaction scores, period indexes

Revision ID: 0003r
Revises: 0002b
Create Date: 2026-11-25

Indexes on (team_id, <period column>) of touch, complaint and customer, for the reports'
per-period counts; a small table `revisit_done`: which touch did a scheduled revisit, the date it was due and
the owner then. Reports count revisits done on time / late from it (services.reports). And `satisfaction_score`: the
scores owners record at periodic check-ins (services.satisfaction), which customer health reads.
"""

from alembic import op
import sqlalchemy as sa


revision = '0003r'
down_revision = '0002b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('revisit_done',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('touch_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_revisit_done_customer_id_customer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_revisit_done_team_id_workspace'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['touch_id'], ['touch.id'], name=op.f('fk_revisit_done_touch_id_touch'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revisit_done'))
    )
    op.create_table('satisfaction_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('recorded_by', sa.String(length=32), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_satisfaction_score_customer_id_customer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_satisfaction_score_team_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_satisfaction_score'))
    )
    op.create_index('ix_satisfaction_score_team_customer_at', 'satisfaction_score', ['team_id', 'customer_id', 'recorded_at'], unique=False)
    op.create_index('ix_revisit_done_team_done_on', 'revisit_done', ['team_id', 'done_on'], unique=False)
    op.create_index('ix_revisit_done_team_due_on', 'revisit_done', ['team_id', 'due_on'], unique=False)
    # Reports count by period: each count reads only its period's index range.
    op.create_index('ix_touch_team_happened_at', 'touch', ['team_id', 'happened_at'], unique=False)
    op.create_index('ix_complaint_team_opened_at', 'complaint', ['team_id', 'opened_at'], unique=False)
    op.create_index('ix_complaint_team_first_response_at', 'complaint', ['team_id', 'first_response_at'], unique=False)
    op.create_index('ix_complaint_team_resolved_at', 'complaint', ['team_id', 'resolved_at'], unique=False)
    op.create_index('ix_customer_team_created_at', 'customer', ['team_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_customer_team_created_at', table_name='customer')
    op.drop_index('ix_complaint_team_resolved_at', table_name='complaint')
    op.drop_index('ix_complaint_team_first_response_at', table_name='complaint')
    op.drop_index('ix_complaint_team_opened_at', table_name='complaint')
    op.drop_index('ix_touch_team_happened_at', table_name='touch')
    op.drop_index('ix_revisit_done_team_due_on', table_name='revisit_done')
    op.drop_index('ix_revisit_done_team_done_on', table_name='revisit_done')
    op.drop_table('revisit_done')
    op.drop_index('ix_satisfaction_score_team_customer_at', table_name='satisfaction_score')
    op.drop_table('satisfaction_score')
