"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25

The schema of the whole product: workspaces, members, customers, touches, complaints and
their timeline, the scheduler's notification outbox, and the audit trail.
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('workspace',
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('last_customer_number', sa.Integer(), nullable=False),
    sa.Column('last_complaint_number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_workspace'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('actor_id', sa.String(length=32), nullable=True),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('entity', sa.String(length=24), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('surface', sa.String(length=24), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_audit_event_team_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    op.create_index('ix_audit_event_team_entity', 'audit_event', ['team_id', 'entity', 'entity_id'], unique=False)

    op.create_table('customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=True),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.String(length=32), nullable=True),
    sa.Column('grade', sa.String(length=1), nullable=True),
    sa.Column('segment', sa.String(length=16), nullable=True),
    sa.Column('needs', sa.Text(), nullable=True),
    sa.Column('preferences', sa.Text(), nullable=True),
    sa.Column('tags', sa.Text(), nullable=True),
    sa.Column('next_revisit', sa.Date(), nullable=True),
    sa.Column('revisits_enabled', sa.Boolean(), nullable=False),
    sa.Column('last_touch_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_customer_team_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer')),
    sa.UniqueConstraint('team_id', 'name_key', name=op.f('uq_customer_team_id_name_key')),
    sa.UniqueConstraint('team_id', 'number', name=op.f('uq_customer_team_id_number'))
    )
    op.create_index('ix_customer_team_next_revisit', 'customer', ['team_id', 'next_revisit'], unique=False)
    op.create_index('ix_customer_team_owner', 'customer', ['team_id', 'owner_id'], unique=False)

    op.create_table('member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('tz', sa.String(length=64), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('is_slack_admin', sa.Boolean(), nullable=False),
    sa.Column('digest_enabled', sa.Boolean(), nullable=False),
    sa.Column('digest_time', sa.String(length=5), nullable=True),
    sa.Column('profile_fetched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_member_team_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member')),
    sa.UniqueConstraint('team_id', 'user_id', name=op.f('uq_member_team_id_user_id'))
    )
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('message_ts', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_notification_team_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('team_id', 'key', name=op.f('uq_notification_team_id_key'))
    )
    op.create_index('ix_notification_status_due', 'notification', ['status', 'due_at'], unique=False)

    op.create_table('complaint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('author_id', sa.String(length=32), nullable=False),
    sa.Column('assignee_id', sa.String(length=32), nullable=True),
    sa.Column('permalink', sa.Text(), nullable=True),
    sa.Column('channel_id', sa.String(length=32), nullable=True),
    sa.Column('thread_ts', sa.String(length=32), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_response_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_clock_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_complaint_customer_id_customer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_complaint_team_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint')),
    sa.UniqueConstraint('team_id', 'number', name=op.f('uq_complaint_team_id_number'))
    )
    op.create_index('ix_complaint_team_assignee', 'complaint', ['team_id', 'assignee_id'], unique=False)
    op.create_index('ix_complaint_team_customer', 'complaint', ['team_id', 'customer_id'], unique=False)
    op.create_index('ix_complaint_team_state', 'complaint', ['team_id', 'state'], unique=False)

    op.create_table('touch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.String(length=32), nullable=False),
    sa.Column('speaker_id', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('next_step', sa.Text(), nullable=True),
    sa.Column('happened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('permalink', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_touch_customer_id_customer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_touch_team_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_touch'))
    )
    op.create_index('ix_touch_team_author_at', 'touch', ['team_id', 'author_id', 'happened_at'], unique=False)
    op.create_index('ix_touch_team_customer_at', 'touch', ['team_id', 'customer_id', 'happened_at'], unique=False)

    op.create_table('complaint_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_complaint_event_complaint_id_complaint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_complaint_event_team_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_event'))
    )
    op.create_index('ix_complaint_event_team_complaint', 'complaint_event', ['team_id', 'complaint_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_complaint_event_team_complaint', table_name='complaint_event')

    op.drop_table('complaint_event')
    op.drop_index('ix_touch_team_customer_at', table_name='touch')
    op.drop_index('ix_touch_team_author_at', table_name='touch')

    op.drop_table('touch')
    op.drop_index('ix_complaint_team_state', table_name='complaint')
    op.drop_index('ix_complaint_team_customer', table_name='complaint')
    op.drop_index('ix_complaint_team_assignee', table_name='complaint')

    op.drop_table('complaint')
    op.drop_index('ix_notification_status_due', table_name='notification')

    op.drop_table('notification')
    op.drop_table('member')
    op.drop_index('ix_customer_team_owner', table_name='customer')
    op.drop_index('ix_customer_team_next_revisit', table_name='customer')

    op.drop_table('customer')
    op.drop_index('ix_audit_event_team_entity', table_name='audit_event')

    op.drop_table('audit_event')
    op.drop_table('workspace')

