"""failed invite code attempts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('link_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('link_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_attempt_sender_hash'), ['sender_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_attempt_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('link_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_attempt_created_at'))
        batch_op.drop_index(batch_op.f('ix_link_attempt_sender_hash'))

    op.drop_table('link_attempt')
