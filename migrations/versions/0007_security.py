"""security: chat generations; sensitive columns encrypted

- `chat_generation`: which session of a Telegram chat is in use, so a second child's
  code starts a fresh session instead of moving the first child's conversation.
- Alert categories, people's roles, rings, contact frequency and wishes, the trusted
  person answers and the age are stored as Fernet tokens like free text. Existing
  values are encrypted on upgrade and decrypted on downgrade (the cipher comes from
  the settings, as for the application).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa

from bot.storage.crypto import get_cipher


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# table -> [(column, kind, clear type, length)]; kind: str, int or bool.
COLUMNS = {
    'alert': [('category', 'str', sa.String(30))],
    'person': [
        ('role', 'str', sa.String(30)),
        ('ring', 'int', sa.Integer()),
        ('frequency', 'str', sa.String(12)),
        ('contact_wish', 'str', sa.String(8)),
    ],
    'trusted_person': [
        ('has_someone', 'bool', sa.Boolean()),
        ('person_knows', 'bool', sa.Boolean()),
        ('wants_help', 'bool', sa.Boolean()),
    ],
    'child': [('age', 'int', sa.Integer())],
}


def _to_text(kind: str, value: object) -> str:
    if kind == 'bool':
        return '1' if value in (True, 1, '1', 't', 'true') else '0'
    return str(value)


def _from_text(kind: str, text: str) -> object:
    if kind == 'int':
        return int(text)
    if kind == 'bool':
        return text == '1'
    return text


def _using(name: str, kind: str) -> str:
    return f"{name}::int::text" if kind == 'bool' else f"{name}::text"


def _alters_types(bind: sa.engine.Connection) -> bool:
    """SQLite stores a token in an INTEGER or BOOLEAN column as text anyway, and
    changing a type there means rebuilding the table, which (with foreign keys on)
    would cascade-delete the rows of every table that refers to it. So only other
    databases change the declared type."""
    return bind.dialect.name != 'sqlite'


def upgrade() -> None:
    op.create_table('chat_generation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chat_hash', sa.String(length=64), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('highest', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chat_hash')
    )
    with op.batch_alter_table('link_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=8), nullable=False,
                                      server_default='chat'))
    bind = op.get_bind()
    cipher = get_cipher()
    for table_name, columns in COLUMNS.items():
        if _alters_types(bind):
            for name, kind, clear in columns:
                op.alter_column(table_name, name, existing_type=clear, type_=sa.Text(),
                                postgresql_using=_using(name, kind))
        names = [c[0] for c in columns]
        tbl = sa.table(table_name, sa.column('id'), *(sa.column(n, sa.Text()) for n in names))
        for row in bind.execute(sa.select(tbl)).all():
            values = {
                name: cipher.encrypt(_to_text(kind, getattr(row, name)))
                for name, kind, _ in columns if getattr(row, name) is not None
            }
            if values:
                bind.execute(sa.update(tbl).where(tbl.c.id == row.id).values(**values))


def downgrade() -> None:
    bind = op.get_bind()
    cipher = get_cipher()
    for table_name, columns in COLUMNS.items():
        names = [c[0] for c in columns]
        tbl = sa.table(table_name, sa.column('id'), *(sa.column(n, sa.Text()) for n in names))
        for row in bind.execute(sa.select(tbl)).all():
            values = {
                name: _to_text(kind, _from_text(kind, cipher.decrypt(getattr(row, name))))
                for name, kind, _ in columns if getattr(row, name) is not None
            }
            if values:
                bind.execute(sa.update(tbl).where(tbl.c.id == row.id).values(**values))
        if _alters_types(bind):
            for name, kind, clear in columns:
                using = {'int': f"{name}::integer", 'bool': f"{name}::boolean"}.get(kind, name)
                op.alter_column(table_name, name, existing_type=sa.Text(), type_=clear,
                                postgresql_using=using)
    op.execute("DELETE FROM link_attempt WHERE kind <> 'chat'")
    with op.batch_alter_table('link_attempt', schema=None) as batch_op:
        batch_op.drop_column('kind')
    op.drop_table('chat_generation')
