"""how I feel and check-ins before a meeting (issue 11): child_message.feeling,
checkin_id, part; the checkin table

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0008'
branch_labels = None
depends_on = None


_COLUMNS = (
    ('feeling', sa.Text()),
    ('checkin_id', sa.Integer()),
    ('part', sa.String(12)),
)


def upgrade() -> None:
    op.create_table(
        'checkin',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('child_id', sa.Integer(), sa.ForeignKey('child.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('about', sa.Text(), nullable=True),
        sa.Column('planned_by', sa.String(100), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_checkin_child_id', 'checkin', ['child_id'])
    op.create_index('ix_checkin_due_on', 'checkin', ['due_on'])
    # Plain ADD COLUMN (no batch rebuild of a table other rows refer to).
    for column, type_ in _COLUMNS:
        op.add_column('child_message', sa.Column(column, type_, nullable=True))
    op.create_index('ix_child_message_checkin_id', 'child_message', ['checkin_id'])


def downgrade() -> None:
    op.drop_index('ix_child_message_checkin_id', table_name='child_message')
    for column, _ in reversed(_COLUMNS):
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE child_message DROP COLUMN {column}')
        else:
            op.drop_column('child_message', column)
    op.drop_index('ix_checkin_due_on', table_name='checkin')
    op.drop_index('ix_checkin_child_id', table_name='checkin')
    op.drop_table('checkin')
