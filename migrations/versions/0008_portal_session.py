"""portal sessions (server-side, for the caseworkers' portal); web chat sender hash and key

Revision ID: 0008
Revises: 0009
Create Date: 2026-12-03

Written against 0006 as asked, but it needs loop's 0009 (the caseworker's portal
columns) to be useful and a single head to migrate, so it sits after 0009 on this
branch; the integrator relinks the chain.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('portal_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('caseworker_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=8), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('pending_totp', sa.Text(), nullable=True),
    sa.Column('totp_failures', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['caseworker_id'], ['caseworker.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('portal_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_session_caseworker_id'), ['caseworker_id'], unique=False)
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sender_key', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_web_session_sender_hash'), ['sender_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_sender_hash'))
        batch_op.drop_column('sender_key')
        batch_op.drop_column('sender_hash')
    with op.batch_alter_table('portal_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_session_caseworker_id'))
    op.drop_table('portal_session')
