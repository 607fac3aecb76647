"""data_versions: a token per table, replaced by every committed change, for caches of aggregates

Revision ID: 0009_data_versions
Revises: 0008_search_and_indexes
Create Date: 2026-11-27

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_data_versions'
down_revision = '0008_search_and_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('data_versions',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('token', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_data_versions'))
    )
    # the tables tracked when this was written (portal/datacache.py TRACKED): tokens from the start, so an
    # upgraded site caches at once (a table without a row is computed uncached until its first write)
    versions = sa.table('data_versions', sa.column('name', sa.String), sa.column('token', sa.BigInteger))
    op.bulk_insert(versions, [{'name': name, 'token': secrets.randbits(62)} for name in (
        'customers', 'follow_up_visits', 'orders', 'payments', 'shipments', 'tickets', 'users')])


def downgrade():
    op.drop_table('data_versions')
