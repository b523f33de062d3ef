"""answer loop: portal accounts, follow-ups, child messages, assignments, notices, audit

Revision ID: 0009
Revises: 0010
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('caseworker', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=12), server_default='caseworker', nullable=False))
        batch_op.add_column(sa.Column('team', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('password_hash', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('totp_secret', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.create_index(batch_op.f('ix_caseworker_team'), ['team'], unique=False)
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_child_team'), ['team'], unique=False)
    with op.batch_alter_table('conversation_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chat_address', sa.Text(), nullable=True))

    op.create_table('child_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('reaction', sa.String(length=12), nullable=True),
    sa.Column('reply_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('read_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['child.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['read_by_id'], ['caseworker.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['conversation_session.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('child_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_child_message_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_child_message_reply_id'), ['reply_id'], unique=False)

    op.create_table('follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('wish_id', sa.Integer(), nullable=True),
    sa.Column('answer_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('open_due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer_due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('overdue_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['answer_id'], ['interview_answer.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['answered_by_id'], ['caseworker.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['child_id'], ['child.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['child_message.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opened_by_id'], ['caseworker.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['wish_id'], ['wish.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('answer_id'),
    sa.UniqueConstraint('message_id'),
    sa.UniqueConstraint('wish_id')
    )
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_child_id'), ['child_id'], unique=False)

    op.create_table('follow_up_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('follow_up_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('caseworker_id', sa.Integer(), nullable=True),
    sa.Column('signed_as', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['caseworker_id'], ['caseworker.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_up.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('follow_up_reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_reply_delivered_at'), ['delivered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_reply_follow_up_id'), ['follow_up_id'], unique=False)

    op.create_table('child_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('caseworker_id', sa.Integer(), nullable=True),
    sa.Column('team', sa.String(length=100), nullable=True),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['caseworker.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['caseworker_id'], ['caseworker.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['child_id'], ['child.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('child_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_child_assignment_child_id'), ['child_id'], unique=False)

    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('caseworker_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['caseworker_id'], ['caseworker.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_caseworker_id'), ['caseworker_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_sent_at'), ['sent_at'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=80), nullable=True),
    sa.Column('child_id', sa.Integer(), nullable=True),
    sa.Column('allowed', sa.Boolean(), nullable=False),
    sa.Column('detail', sa.String(length=300), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['caseworker.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_child_id'), ['child_id'], unique=False)


def downgrade() -> None:
    op.drop_table('audit_event')
    op.drop_table('notice')
    op.drop_table('child_assignment')
    op.drop_table('follow_up_reply')
    op.drop_table('follow_up')
    op.drop_table('child_message')
    # On SQLite a batch drop_column rebuilds the table, and dropping the old `child`
    # table (foreign keys on) would cascade-delete every row that refers to it. SQLite
    # 3.35+ drops a column in place; other databases do so anyway.
    op.drop_index(op.f('ix_child_team'), table_name='child')
    op.drop_index(op.f('ix_caseworker_team'), table_name='caseworker')
    for table, column in [
        ('conversation_session', 'chat_address'), ('child', 'team'),
        ('caseworker', 'active'), ('caseworker', 'last_login_at'),
        ('caseworker', 'locked_until'), ('caseworker', 'failed_logins'),
        ('caseworker', 'totp_secret'), ('caseworker', 'password_hash'),
        ('caseworker', 'team'), ('caseworker', 'role'),
    ]:
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
