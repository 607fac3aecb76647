"""portal invitations: one-time links for buyers

Revision ID: 0006_portal_invitations
Revises: 0005_order_exchange_rate
Create Date: 2026-11-22

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base


revision = '0006_portal_invitations'
down_revision = '0005_order_exchange_rate'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('portal_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.models.base.UtcDateTime(), nullable=False),
    sa.Column('expires_at', portal.models.base.UtcDateTime(), nullable=False),
    sa.Column('used_at', portal.models.base.UtcDateTime(), nullable=True),
    sa.Column('revoked_at', portal.models.base.UtcDateTime(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_portal_invitations_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_portal_invitations_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_portal_invitations_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_portal_invitations_token_hash'))
    )
    with op.batch_alter_table('portal_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_invitations_customer_id'), ['customer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('portal_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_invitations_customer_id'))
    op.drop_table('portal_invitations')
