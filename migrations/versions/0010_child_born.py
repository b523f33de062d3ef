"""child birth month (the age band follows the birthday); siblings, missed people, a trusted person's involvement

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0007'
branch_labels = None
depends_on = None


# Booleans are stored encrypted like the other answers (EncryptedBool: Text).


_COLUMNS = (
    ('child', 'born'),
    ('person', 'placed_together'),
    ('person', 'lives_where'),
    ('person', 'missed'),
    ('trusted_person', 'wants_involved'),
)


def upgrade() -> None:
    # Plain ADD COLUMN: on SQLite a batch rebuild of `child` would, with foreign keys
    # on, cascade-delete every row that refers to it.
    for table, column in _COLUMNS:
        op.add_column(table, sa.Column(column, sa.Text(), nullable=True))


def downgrade() -> None:
    for table, column in reversed(_COLUMNS):
        if op.get_bind().dialect.name == 'sqlite':
            # SQLite >= 3.35 drops a plain column in place (no table rebuild).
            op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
        else:
            op.drop_column(table, column)
