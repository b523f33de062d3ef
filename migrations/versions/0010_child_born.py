"""child birth month (the age band follows the birthday); siblings, missed people, a trusted person's involvement

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # "YYYY-MM", Fernet-encrypted like every other personal field (EncryptedText).
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.add_column(sa.Column('born', sa.Text(), nullable=True))
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('placed_together', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('lives_where', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('missed', sa.Boolean(), nullable=True))
    with op.batch_alter_table('trusted_person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wants_involved', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('trusted_person', schema=None) as batch_op:
        batch_op.drop_column('wants_involved')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('missed')
        batch_op.drop_column('lives_where')
        batch_op.drop_column('placed_together')
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.drop_column('born')
