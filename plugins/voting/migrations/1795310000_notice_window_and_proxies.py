"""notice (R8) and proxies (R10)

Revision ID: 1795310000
Revises: 1795303624
Create Date: 2026-11-22 02:10:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1795310000'
down_revision: Union[str, Sequence[str], None] = '1795303624'
branch_labels: Union[str, Sequence[str], None] = ()
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('voting_ballot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('temporary', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('notice_published_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('notice_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('notice_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_voting_ballot_notice_by_id_user'), 'user', ['notice_by_id'],
                                    ['id'], ondelete='SET NULL')
    with op.batch_alter_table('voting_ballot', schema=None) as batch_op:
        batch_op.alter_column('temporary', server_default=None)

    op.create_table('voting_proxy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=12), nullable=False),
    sa.Column('voter_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('holder_key', sa.String(length=120), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=False),
    sa.Column('witness', sa.String(length=80), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revoke_reason', sa.String(length=300), nullable=True),
    sa.Column('scan_type', sa.String(length=40), nullable=True),
    sa.Column('scan_data', sa.LargeBinary(), nullable=True),
    sa.Column('scan_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['ballot_id'], ['voting_ballot.id'], name=op.f('fk_voting_proxy_ballot_id_voting_ballot'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_voting_proxy_recorded_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user.id'], name=op.f('fk_voting_proxy_revoked_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_voting_proxy_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['voter_id'], ['voting_voter.id'], name=op.f('fk_voting_proxy_voter_id_voting_voter'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voting_proxy')),
    sa.UniqueConstraint('ballot_id', 'ref', name=op.f('uq_voting_proxy_ballot_id_ref'))
    )
    with op.batch_alter_table('voting_proxy', schema=None) as batch_op:
        batch_op.create_index('ix_voting_proxy_holder', ['ballot_id', 'holder_key'], unique=False)
        batch_op.create_index('ix_voting_proxy_one_active', ['ballot_id', 'voter_id'], unique=True,
                              sqlite_where=sa.text('revoked_at IS NULL'),
                              postgresql_where=sa.text('revoked_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_voting_proxy_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('voting_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proxy_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_voting_entry_proxy_id_voting_proxy'), 'voting_proxy',
                                    ['proxy_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('voting_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_voting_entry_proxy_id_voting_proxy'), type_='foreignkey')
        batch_op.drop_column('proxy_id')
    with op.batch_alter_table('voting_proxy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voting_proxy_user_id'))
        batch_op.drop_index('ix_voting_proxy_one_active', sqlite_where=sa.text('revoked_at IS NULL'),
                            postgresql_where=sa.text('revoked_at IS NULL'))
        batch_op.drop_index('ix_voting_proxy_holder')
    op.drop_table('voting_proxy')
    with op.batch_alter_table('voting_ballot', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_voting_ballot_notice_by_id_user'), type_='foreignkey')
        batch_op.drop_column('notice_by_id')
        batch_op.drop_column('notice_days')
        batch_op.drop_column('notice_published_at')
        batch_op.drop_column('temporary')
