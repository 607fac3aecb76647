"""after-sales: tickets, service records, follow-up visits, satisfaction months

Revision ID: 0007_aftersales
Revises: 0006_portal_invitations
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base


# revision identifiers, used by Alembic.
revision = '0007_aftersales'
down_revision = '0006_portal_invitations'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('satisfaction_months',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('improvement_actions', sa.Text(), nullable=True),
    sa.Column('problem_actions', sa.JSON(), nullable=True),
    sa.Column('correction_reason', sa.String(length=500), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', portal.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_satisfaction_months_created_by_id_users')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_satisfaction_months_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_satisfaction_months')),
    sa.UniqueConstraint('year', 'month', 'revision', name='uq_satisfaction_months_revision')
    )
    with op.batch_alter_table('satisfaction_months', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_satisfaction_months_state'), ['state'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('category', sa.String(length=12), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=True),
    sa.Column('received_at', portal.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('department', sa.String(length=12), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('cause', sa.Text(), nullable=True),
    sa.Column('solution', sa.Text(), nullable=True),
    sa.Column('resolution', sa.String(length=12), nullable=True),
    sa.Column('cost_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('claim_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('preventive_action', sa.Text(), nullable=True),
    sa.Column('closed_at', portal.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('source_visit_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_tickets_assignee_id_users')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_tickets_closed_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tickets_created_by_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_tickets_customer_id_customers')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_tickets_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('number', name=op.f('uq_tickets_number'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_closed_at'), ['closed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_severity'), ['severity'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_source_visit_id'), ['source_visit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_state'), ['state'], unique=False)
        batch_op.create_index('ix_tickets_state_due', ['state', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_updated_at'), ['updated_at'], unique=False)

    op.create_table('follow_up_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=10), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('shipment_id', sa.Integer(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('assigned_to_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=True),
    sa.Column('answered_by', sa.String(length=100), nullable=True),
    sa.Column('quality_ok', sa.Boolean(), nullable=True),
    sa.Column('quality_note', sa.Text(), nullable=True),
    sa.Column('service_timely', sa.Boolean(), nullable=True),
    sa.Column('service_note', sa.Text(), nullable=True),
    sa.Column('sales_rating', sa.Integer(), nullable=True),
    sa.Column('suggestions', sa.Text(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('problem', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('salesperson_id', sa.Integer(), nullable=True),
    sa.Column('done_at', portal.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['users.id'], name=op.f('fk_follow_up_visits_assigned_to_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_follow_up_visits_created_by_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_follow_up_visits_customer_id_customers')),
    sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_follow_up_visits_done_by_id_users')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_follow_up_visits_order_id_orders')),
    sa.ForeignKeyConstraint(['salesperson_id'], ['users.id'], name=op.f('fk_follow_up_visits_salesperson_id_users')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_follow_up_visits_shipment_id_shipments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_follow_up_visits_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_visits')),
    sa.UniqueConstraint('shipment_id', 'reason', name='uq_follow_up_visits_shipment_reason')
    )
    with op.batch_alter_table('follow_up_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_visits_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_visits_done_at'), ['done_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_visits_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_visits_problem'), ['problem'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_visits_salesperson_id'), ['salesperson_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_visits_state'), ['state'], unique=False)
        batch_op.create_index('ix_follow_up_visits_state_due', ['state', 'due_on'], unique=False)
        batch_op.create_index('ix_follow_up_visits_state_done', ['state', 'done_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_visits_ticket_id'), ['ticket_id'], unique=False)

    # tickets and visits refer to each other: the ticket's link to its visit comes once both exist
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_tickets_source_visit_id_follow_up_visits'), 'follow_up_visits',
                                    ['source_visit_id'], ['id'], ondelete='SET NULL')

    op.create_table('service_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('served_on', sa.Date(), nullable=False),
    sa.Column('fault', sa.Text(), nullable=False),
    sa.Column('handling', sa.Text(), nullable=False),
    sa.Column('parts', sa.String(length=500), nullable=True),
    sa.Column('hours', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('technician', sa.String(length=100), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_service_records_created_by_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_service_records_customer_id_customers')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_service_records_order_id_orders')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_service_records_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_records'))
    )
    with op.batch_alter_table('service_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_records_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_records_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_records_served_on'), ['served_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_records_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticket_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('at', portal.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('state_from', sa.String(length=12), nullable=True),
    sa.Column('state_to', sa.String(length=12), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('customer_visible', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_events_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ticket_events_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_events'))
    )
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_events_ticket_at', ['ticket_id', 'at'], unique=False)

    op.create_table('ticket_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('order_item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=14, scale=3), nullable=True),
    sa.ForeignKeyConstraint(['order_item_id'], ['order_items.id'], name=op.f('fk_ticket_lines_order_item_id_order_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_lines_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_lines'))
    )
    with op.batch_alter_table('ticket_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_lines_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('company_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_delay_days', sa.Integer(), server_default='7', nullable=False))
        batch_op.add_column(sa.Column('ticket_days_minor', sa.Integer(), server_default='10', nullable=False))
        batch_op.add_column(sa.Column('ticket_days_major', sa.Integer(), server_default='5', nullable=False))
        batch_op.add_column(sa.Column('ticket_days_critical', sa.Integer(), server_default='2', nullable=False))



def downgrade():
    with op.batch_alter_table('company_settings', schema=None) as batch_op:
        batch_op.drop_column('ticket_days_critical')
        batch_op.drop_column('ticket_days_major')
        batch_op.drop_column('ticket_days_minor')
        batch_op.drop_column('visit_delay_days')

    with op.batch_alter_table('ticket_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_lines_ticket_id'))

    op.drop_table('ticket_lines')
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_events_ticket_at')

    op.drop_table('ticket_events')
    with op.batch_alter_table('service_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_records_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_service_records_served_on'))
        batch_op.drop_index(batch_op.f('ix_service_records_order_id'))
        batch_op.drop_index(batch_op.f('ix_service_records_customer_id'))

    op.drop_table('service_records')
    with op.batch_alter_table('follow_up_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_visits_ticket_id'))
        batch_op.drop_index('ix_follow_up_visits_state_due')
        batch_op.drop_index('ix_follow_up_visits_state_done')
        batch_op.drop_index(batch_op.f('ix_follow_up_visits_state'))
        batch_op.drop_index(batch_op.f('ix_follow_up_visits_salesperson_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_visits_problem'))
        batch_op.drop_index(batch_op.f('ix_follow_up_visits_order_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_visits_done_at'))
        batch_op.drop_index(batch_op.f('ix_follow_up_visits_customer_id'))

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tickets_source_visit_id_follow_up_visits'), type_='foreignkey')
    op.drop_table('follow_up_visits')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_updated_at'))
        batch_op.drop_index('ix_tickets_state_due')
        batch_op.drop_index(batch_op.f('ix_tickets_state'))
        batch_op.drop_index(batch_op.f('ix_tickets_source_visit_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_severity'))
        batch_op.drop_index(batch_op.f('ix_tickets_received_at'))
        batch_op.drop_index(batch_op.f('ix_tickets_order_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_due_on'))
        batch_op.drop_index(batch_op.f('ix_tickets_department'))
        batch_op.drop_index(batch_op.f('ix_tickets_customer_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_closed_at'))
        batch_op.drop_index(batch_op.f('ix_tickets_category'))
        batch_op.drop_index(batch_op.f('ix_tickets_assignee_id'))

    op.drop_table('tickets')
    with op.batch_alter_table('satisfaction_months', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_satisfaction_months_state'))

    op.drop_table('satisfaction_months')
