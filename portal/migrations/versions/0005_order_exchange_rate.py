"""order exchange rate: the CNY value of a foreign-currency order, fixed when the contract is signed

Revision ID: 0005_order_exchange_rate
Revises: 0004_documents
Create Date: 2026-11-22

"""
from alembic import op
import sqlalchemy as sa


revision = '0005_order_exchange_rate'
down_revision = '0004_documents'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders') as batch_op:
        batch_op.add_column(sa.Column('exchange_rate', sa.Numeric(precision=12, scale=6), nullable=True))
        batch_op.create_index('ix_orders_contract_date', ['contract_date'])


def downgrade():
    with op.batch_alter_table('orders') as batch_op:
        batch_op.drop_index('ix_orders_contract_date')
        batch_op.drop_column('exchange_rate')
