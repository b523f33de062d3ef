"""pending messages (Telegram messages kept while Rasa is down)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pending_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('sender', sa.String(length=80), nullable=False),
    sa.Column('chat', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pending_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_message_sender'), ['sender'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pending_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_message_sender'))

    op.drop_table('pending_message')
