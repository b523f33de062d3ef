"""the full interview: people, trusted person, free answers, per-item sharing

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Columns every summary item has (bot.storage.models.SummaryItem).
SHARE_COLUMNS = ("shared", "share_decided_at", "replaced_at", "shared_summary_id")


def _item_columns(table: str) -> list[sa.Column]:
    return [
        sa.Column('shared', sa.Boolean(), nullable=True),
        sa.Column('share_decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('shared_summary_id', sa.Integer(), nullable=True),
    ]


def _item_table(name: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=True),
        *columns,
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        *_item_columns(name),
        sa.ForeignKeyConstraint(['child_id'], ['child.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['session_id'], ['conversation_session.id'],
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['shared_summary_id'], ['shared_summary.id'],
                                name=f'fk_{name}_shared_summary_id', ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{name}_child_id'), ['child_id'], unique=False)


def upgrade() -> None:
    _item_table(
        'person',
        sa.Column('label', sa.Text(), nullable=False),
        sa.Column('name', sa.Text(), nullable=True),
        sa.Column('role', sa.String(length=30), nullable=True),
        sa.Column('ring', sa.Integer(), nullable=True),
        sa.Column('frequency', sa.String(length=12), nullable=True),
        sa.Column('contact_wish', sa.String(length=8), nullable=True),
    )
    _item_table(
        'trusted_person',
        sa.Column('has_someone', sa.Boolean(), nullable=True),
        sa.Column('who', sa.Text(), nullable=True),
        sa.Column('person_knows', sa.Boolean(), nullable=True),
        sa.Column('wants_help', sa.Boolean(), nullable=True),
    )
    _item_table(
        'interview_answer',
        sa.Column('topic', sa.String(length=20), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
    )
    with op.batch_alter_table('wish', schema=None) as batch_op:
        for column in _item_columns('wish'):
            batch_op.add_column(column)
        batch_op.create_foreign_key('fk_wish_shared_summary_id', 'shared_summary',
                                    ['shared_summary_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('wish', schema=None) as batch_op:
        batch_op.drop_constraint('fk_wish_shared_summary_id', type_='foreignkey')
        for column in reversed(SHARE_COLUMNS):
            batch_op.drop_column(column)
    for name in ('interview_answer', 'trusted_person', 'person'):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{name}_child_id'))
        op.drop_table(name)
