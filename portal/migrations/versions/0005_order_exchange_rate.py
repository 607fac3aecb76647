"""order exchange rate (fixed when the contract is signed), stored amounts (total, paid, balance due date),
customer bank details (printed on contracts)

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
    with op.batch_alter_table('customers') as batch_op:
        batch_op.add_column(sa.Column('bank_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('bank_account', sa.String(length=60), nullable=True))
    with op.batch_alter_table('orders') as batch_op:
        batch_op.add_column(sa.Column('exchange_rate', sa.Numeric(precision=12, scale=6), nullable=True))
        batch_op.create_index('ix_orders_contract_date', ['contract_date'])
        batch_op.add_column(sa.Column('amount_total', sa.Numeric(precision=14, scale=2), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('amount_paid', sa.Numeric(precision=14, scale=2), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('balance_due_on', sa.Date(), nullable=True))
        batch_op.create_index('ix_orders_balance_due_on', ['balance_due_on'])
    # Existing orders: the sums of their lines (each rounded to the fen) and payments. The balance due
    # date is filled the next time the order changes (orders before this migration are demo data).
    op.execute("UPDATE orders SET amount_total = COALESCE((SELECT SUM(ROUND(quantity * unit_price, 2)) "
               "FROM order_items WHERE order_items.order_id = orders.id), 0), "
               "amount_paid = COALESCE((SELECT SUM(amount) FROM payments WHERE payments.order_id = orders.id), 0)")


def downgrade():
    with op.batch_alter_table('customers') as batch_op:
        batch_op.drop_column('bank_account')
        batch_op.drop_column('bank_name')
    with op.batch_alter_table('orders') as batch_op:
        batch_op.drop_index('ix_orders_balance_due_on')
        batch_op.drop_column('balance_due_on')
        batch_op.drop_column('amount_paid')
        batch_op.drop_column('amount_total')
        batch_op.drop_index('ix_orders_contract_date')
        batch_op.drop_column('exchange_rate')
