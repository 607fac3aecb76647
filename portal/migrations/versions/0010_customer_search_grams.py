"""customer_search_grams: an index of the customer search text by characters and pairs of characters

Revision ID: 0010_customer_search_grams
Revises: 0009_data_versions
Create Date: 2026-11-28

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_customer_search_grams'
down_revision = '0009_data_versions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('customer_search_grams',
    sa.Column('gram', sa.String(length=2), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('gram', 'customer_id', name=op.f('pk_customer_search_grams')),
    sqlite_with_rowid=False
    )
    op.create_index('ix_customer_search_grams_customer_gram', 'customer_search_grams', ['customer_id', 'gram'], unique=False)

    # every existing search row gets its entries (about 120 a customer)
    connection = op.get_bind()
    rows = []
    for customer_id, text in connection.execute(sa.text("SELECT customer_id, text FROM customer_search")).all():
        rows += [(gram, customer_id) for gram in _search_grams(text)]
        if len(rows) >= 50000:
            _insert(connection, rows)
            rows = []
    if rows:
        _insert(connection, rows)


def _insert(connection, rows):
    """PostgreSQL takes the rows as two arrays (several times faster than a multi-row INSERT)."""
    if connection.dialect.name == 'postgresql':
        connection.execute(sa.text("INSERT INTO customer_search_grams (gram, customer_id) "
                                   "SELECT * FROM unnest(CAST(:grams AS varchar[]), CAST(:ids AS integer[]))"),
                           {'grams': [gram for gram, _ in rows], 'ids': [i for _, i in rows]})
    else:
        connection.exec_driver_sql("INSERT INTO customer_search_grams (gram, customer_id) VALUES (?, ?)", rows)


def _search_grams(text):
    """models.customers.search_grams as of this revision: each character and each pair of characters in a row
    within a line."""
    grams = set()
    for line in text.split("\n"):
        grams.update(line)
        grams.update(line[i:i + 2] for i in range(len(line) - 1))
    return grams


def downgrade():
    op.drop_index('ix_customer_search_grams_customer_gram', table_name='customer_search_grams')
    op.drop_table('customer_search_grams')
