"""orders: the partial index of open receivables (ix_orders_receivable) covers what the receivables ageing reads
(customer, currency, amounts, deposit percent, contract date, balance due date, state), so that ranking every
customer with something open reads the index alone instead of ~5,400 rows scattered over 100,000 orders

Revision ID: 0014_receivable_covering_index
Revises: 0013_company_settings_token
Create Date: 2026-11-28

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_receivable_covering_index'
down_revision = '0013_company_settings_token'
branch_labels = None
depends_on = None

RECEIVABLE = sa.text("state IN ('contract_signed', 'deposit_received', 'plan_approved', 'in_production', "
                     "'inspected', 'shipped', 'balance_received') AND amount_total > amount_paid")
COLUMNS = ['customer_id', 'currency', 'amount_total', 'amount_paid', 'deposit_percent', 'contract_date',
           'balance_due_on', 'state']


def upgrade():
    op.drop_index('ix_orders_receivable', table_name='orders')
    op.create_index('ix_orders_receivable', 'orders', COLUMNS, unique=False,
                    sqlite_where=RECEIVABLE, postgresql_where=RECEIVABLE)


def downgrade():
    op.drop_index('ix_orders_receivable', table_name='orders')
    op.create_index('ix_orders_receivable', 'orders', ['customer_id'], unique=False,
                    sqlite_where=RECEIVABLE, postgresql_where=RECEIVABLE)
