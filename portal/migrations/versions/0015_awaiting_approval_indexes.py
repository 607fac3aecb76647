"""production_plans.state and change_requests.state indexed: a manager's home page asks for the submitted plans
and the requested changes, a few rows; without an index SQLite drove both from all 100,000 orders
(6 and 26-38 ms of a 60 ms page)

Revision ID: 0015_awaiting_approval_indexes
Revises: 0014_receivable_covering_index
Create Date: 2026-11-28

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015_awaiting_approval_indexes'
down_revision = '0014_receivable_covering_index'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_production_plans_state', 'production_plans', ['state'], unique=False)
    op.create_index('ix_change_requests_state', 'change_requests', ['state'], unique=False)


def downgrade():
    op.drop_index('ix_change_requests_state', table_name='change_requests')
    op.drop_index('ix_production_plans_state', table_name='production_plans')
