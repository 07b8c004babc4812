"""requests to convene a residents' meeting (R13, Organic Law Art. 10) and their supports

Revision ID: 1795360600
Revises: 1795360701
Create Date: 2026-12-07 21:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1795360600'
down_revision: Union[str, Sequence[str], None] = '1795360701'
branch_labels: Union[str, Sequence[str], None] = ()
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('voting_convening',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('base', sa.String(length=12), nullable=False),
    sa.Column('base_total', sa.Integer(), nullable=False),
    sa.Column('base_on', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('supporters', sa.Integer(), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('reached_at', sa.DateTime(), nullable=True),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('overdue_notified_at', sa.DateTime(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('ballot_id', sa.Integer(), nullable=True),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.CheckConstraint("base IN ('adults', 'households', 'groups')", name=op.f('ck_voting_convening_base')),
    sa.CheckConstraint("state IN ('collecting', 'reached', 'convened', 'replied')",
                       name=op.f('ck_voting_convening_state')),
    sa.CheckConstraint('base_total > 0', name=op.f('ck_voting_convening_base_total_pos')),
    sa.CheckConstraint('progress >= 0 AND supporters >= 0', name=op.f('ck_voting_convening_counts_nonneg')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user.id'], name=op.f('fk_voting_convening_answered_by_id_user'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ballot_id'], ['voting_ballot.id'],
                            name=op.f('fk_voting_convening_ballot_id_voting_ballot'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_voting_convening_community_id_community'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['started_by_id'], ['user.id'], name=op.f('fk_voting_convening_started_by_id_user'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voting_convening'))
    )
    with op.batch_alter_table('voting_convening', schema=None) as batch_op:
        batch_op.create_index('ix_voting_convening_community_state', ['community_id', 'state'], unique=False)

    op.create_table('voting_convening_support',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('acted_by_id', sa.Integer(), nullable=True),
    sa.Column('assist_reason', sa.String(length=200), nullable=True),
    sa.Column('households', sa.JSON(), nullable=False),
    sa.Column('grids', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['acted_by_id'], ['user.id'], name=op.f('fk_voting_convening_support_acted_by_id_user'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_voting_convening_support_person_id_person'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['voting_convening.id'],
                            name=op.f('fk_voting_convening_support_request_id_voting_convening'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_voting_convening_support_user_id_user'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['user.id'],
                            name=op.f('fk_voting_convening_support_withdrawn_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voting_convening_support'))
    )
    with op.batch_alter_table('voting_convening_support', schema=None) as batch_op:
        batch_op.create_index('ix_voting_convening_support_one', ['request_id', 'person_id'], unique=True,
                              sqlite_where=sa.text('withdrawn_at IS NULL'),
                              postgresql_where=sa.text('withdrawn_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_voting_convening_support_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voting_convening_support_request_id'), ['request_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('voting_convening_support', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voting_convening_support_request_id'))
        batch_op.drop_index(batch_op.f('ix_voting_convening_support_person_id'))
        batch_op.drop_index('ix_voting_convening_support_one', sqlite_where=sa.text('withdrawn_at IS NULL'),
                            postgresql_where=sa.text('withdrawn_at IS NULL'))
    op.drop_table('voting_convening_support')
    with op.batch_alter_table('voting_convening', schema=None) as batch_op:
        batch_op.drop_index('ix_voting_convening_community_state')
    op.drop_table('voting_convening')
