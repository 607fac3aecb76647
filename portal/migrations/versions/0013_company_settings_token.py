"""data_versions: a token for company_settings, whose name and logo every page's header shows from a
per-worker cache (portal/datacache.py)

Revision ID: 0013_company_settings_token
Revises: 0012_orders_state_include
Create Date: 2026-11-27

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_company_settings_token'
down_revision = '0012_orders_state_include'
branch_labels = None
depends_on = None

versions = sa.table('data_versions', sa.column('name', sa.String), sa.column('token', sa.BigInteger))


def upgrade():
    op.bulk_insert(versions, [{'name': 'company_settings', 'token': secrets.randbits(62)}])


def downgrade():
    op.execute(versions.delete().where(versions.c.name == 'company_settings'))
