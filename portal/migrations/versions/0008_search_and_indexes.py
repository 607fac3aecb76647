"""customer search rows; indexes for the exchange-rate suggestion, the order list by status, orders awaiting shipment, receivables

Revision ID: 0008_search_and_indexes
Revises: 0007_aftersales
Create Date: 2026-11-27

"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_search_and_indexes'
down_revision = '0007_aftersales'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('customer_search',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_search_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_search'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_currency_contract', ['currency', 'contract_date'], unique=False)
        batch_op.create_index('ix_orders_state_promised', ['state', 'promised_date'], unique=False)
        batch_op.create_index('ix_orders_state_created', ['state', 'created_at'], unique=False)
    awaiting = sa.text("state IN ('contract_signed', 'deposit_received', 'plan_approved', 'in_production', 'inspected')")
    op.create_index('ix_orders_awaiting_shipment', 'orders', ['promised_date'], unique=False,
                    sqlite_where=awaiting, postgresql_where=awaiting)
    receivable = sa.text("state IN ('contract_signed', 'deposit_received', 'plan_approved', 'in_production', "
                         "'inspected', 'shipped', 'balance_received') AND amount_total > amount_paid")
    op.create_index('ix_orders_receivable', 'orders', ['customer_id'], unique=False,
                    sqlite_where=receivable, postgresql_where=receivable)

    # every existing customer gets its search row (the text as this revision defined it: a copy, not the
    # model's refresh_search, which later revisions extend with tables that do not exist yet here)
    connection = op.get_bind()
    contacts = {}
    for row in connection.execute(sa.text("SELECT customer_id, name, phone, mobile, email FROM contacts ORDER BY id")):
        contacts.setdefault(row[0], []).extend(row[1:])
    search = sa.table('customer_search', sa.column('customer_id', sa.Integer), sa.column('text', sa.Text))
    rows = [{'customer_id': row[0], 'text': _search_text(list(row[1:]) + contacts.get(row[0], []))}
            for row in connection.execute(sa.text("SELECT id, code, name, name_en, phone, email FROM customers"))]
    for start in range(0, len(rows), 1000):
        op.bulk_insert(search, rows[start:start + 1000])


def _search_text(fields):
    """models.customers.search_text as of this revision: NFKC, lower case, white space collapsed, a field a line."""
    keys = (" ".join(unicodedata.normalize("NFKC", field or "").lower().split()) for field in fields)
    return "\n".join(key for key in keys if key)


def downgrade():
    op.drop_index('ix_orders_receivable', table_name='orders')
    op.drop_index('ix_orders_awaiting_shipment', table_name='orders')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_state_created')
        batch_op.drop_index('ix_orders_state_promised')
        batch_op.drop_index('ix_orders_currency_contract')
    op.drop_table('customer_search')
