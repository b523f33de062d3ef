"""portal TOTP: the last accepted time step per account, so a code works only once

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: on SQLite a batch rebuild of `caseworker` would, with foreign
    # keys on, cascade-delete every row that refers to it.
    op.add_column('caseworker', sa.Column('totp_last_step', sa.Integer(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite >= 3.35 drops a plain column in place (no table rebuild).
        op.execute('ALTER TABLE caseworker DROP COLUMN totp_last_step')
    else:
        op.drop_column('caseworker', 'totp_last_step')
