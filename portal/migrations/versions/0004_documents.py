"""documents: issued documents, print jobs, company seal and terms

Revision ID: 0004_documents
Revises: 0003_samples_quotes_orders
Create Date: 2026-11-22

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base


revision = '0004_documents'
down_revision = '0003_samples_quotes_orders'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('issued_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('shipment_id', sa.Integer(), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('options', sa.JSON(), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', portal.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_issued_documents_customer_id_customers')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_issued_documents_issued_by_id_users')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_issued_documents_order_id_orders')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_issued_documents_shipment_id_shipments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_documents')),
    sa.UniqueConstraint('kind', 'number', 'version', name='uq_issued_documents_kind_number_version')
    )
    with op.batch_alter_table('issued_documents', schema=None) as batch_op:
        batch_op.create_index('ix_issued_documents_kind_subject', ['kind', 'subject_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_issued_documents_current'), ['current'], unique=False)
        batch_op.create_index(batch_op.f('ix_issued_documents_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_issued_documents_issued_at'), ['issued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_issued_documents_number'), ['number'], unique=False)
        batch_op.create_index(batch_op.f('ix_issued_documents_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_issued_documents_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('print_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('result_file', sa.String(length=200), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_at', portal.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', portal.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', portal.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_print_jobs_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_jobs'))
    )
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_print_jobs_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_print_jobs_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('company_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contract_terms_en', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('invoice_terms', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('seal_file', sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table('company_settings', schema=None) as batch_op:
        batch_op.drop_column('seal_file')
        batch_op.drop_column('invoice_terms')
        batch_op.drop_column('contract_terms_en')
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_print_jobs_user_id'))
        batch_op.drop_index(batch_op.f('ix_print_jobs_state'))
    op.drop_table('print_jobs')
    with op.batch_alter_table('issued_documents', schema=None) as batch_op:
        for name in ('ix_issued_documents_shipment_id', 'ix_issued_documents_order_id', 'ix_issued_documents_number',
                     'ix_issued_documents_issued_at', 'ix_issued_documents_customer_id', 'ix_issued_documents_current'):
            batch_op.drop_index(batch_op.f(name))
        batch_op.drop_index('ix_issued_documents_kind_subject')
    op.drop_table('issued_documents')
