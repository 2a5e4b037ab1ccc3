"""contracts, their yearly schedule, organisations and scenarios

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tracker.db.base import UtcDateTime

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('name', name=op.f('uq_organisations_name'))
    )
    op.create_table('contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('archived_at', UtcDateTime(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('term_years', sa.Integer(), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('total_price', sa.BigInteger(), nullable=False),
    sa.Column('total_efficiency_gain', sa.BigInteger(), nullable=False),
    sa.Column('total_reinvest', sa.BigInteger(), nullable=False),
    sa.Column('total_net_margin', sa.BigInteger(), nullable=False),
    sa.Column('npv_net_margin', sa.BigInteger(), nullable=False),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'negotiation', 'signed', 'onboarding', 'active', 'renewal', 'closed')", name=op.f('ck_contracts_status')),
    sa.CheckConstraint('term_years BETWEEN 1 AND 30', name=op.f('ck_contracts_term_years')),
    sa.ForeignKeyConstraint(['buyer_id'], ['organisations.id'], name=op.f('fk_contracts_buyer_id_organisations')),
    sa.ForeignKeyConstraint(['vendor_id'], ['organisations.id'], name=op.f('fk_contracts_vendor_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
    sa.UniqueConstraint('code', name=op.f('uq_contracts_code'))
    )
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.create_index('ix_contracts_buyer_id', ['buyer_id'], unique=False)
        batch_op.create_index('ix_contracts_status', ['status'], unique=False)
        batch_op.create_index('ix_contracts_vendor_id', ['vendor_id'], unique=False)

    op.create_table('contract_years',
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('escalation', sa.String(length=40), nullable=True),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('baseline_cost', sa.BigInteger(), nullable=False),
    sa.Column('planned_cost', sa.BigInteger(), nullable=False),
    sa.Column('efficiency_gain', sa.BigInteger(), nullable=False),
    sa.Column('efficiency_pct', sa.Integer(), nullable=True),
    sa.Column('reinvest', sa.BigInteger(), nullable=False),
    sa.Column('buyer_credit', sa.BigInteger(), nullable=False),
    sa.Column('vendor_gain', sa.BigInteger(), nullable=False),
    sa.Column('net_price', sa.BigInteger(), nullable=False),
    sa.Column('gross_margin', sa.BigInteger(), nullable=False),
    sa.Column('net_margin', sa.BigInteger(), nullable=False),
    sa.Column('reinvest_cumulative', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_years_contract_id_contracts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contract_id', 'year', name=op.f('pk_contract_years'))
    )
    op.create_table('scenarios',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_scenarios_contract_id_contracts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenarios')),
    sa.UniqueConstraint('contract_id', 'name', name='uq_scenarios_contract_name')
    )
    with op.batch_alter_table('scenarios', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scenarios_contract_id'), ['contract_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('scenarios', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenarios_contract_id'))

    op.drop_table('scenarios')
    op.drop_table('contract_years')
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index('ix_contracts_vendor_id')
        batch_op.drop_index('ix_contracts_status')
        batch_op.drop_index('ix_contracts_buyer_id')

    op.drop_table('contracts')
    op.drop_table('organisations')
