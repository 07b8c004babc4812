"""elections: seats, candidates published, nominations and their supporters

A ballot of the method "election" fills ``seats`` from candidates nominated on the register
(voting_nomination) with the support of voters or household representatives
(voting_nomination_support, one per person and nomination). Existing ballots are unchanged: their
seats stay empty.

Revision ID: 1795360800
Revises: 1795360600
Create Date: 2026-12-07 21:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision: str = '1795360800'
down_revision: Union[str, Sequence[str], None] = '1795360600'
branch_labels: Union[str, Sequence[str], None] = ()
depends_on: Union[str, Sequence[str], None] = '1795350000'


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('voting_ballot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seats', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('candidates_published_at', sa.DateTime(), nullable=True))
    op.create_table('voting_nomination',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('nominated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('consented_at', sa.DateTime(), nullable=True),
    sa.Column('consent_recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ballot_id'], ['voting_ballot.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['nominated_by_id'], ['user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['consent_recorded_by_id'], ['user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ballot_id', 'person_id')
    )
    with op.batch_alter_table('voting_nomination', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voting_nomination_ballot_id'), ['ballot_id'], unique=False)
    op.create_table('voting_nomination_support',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('nomination_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('via', sa.String(length=10), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['voting_ballot.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['nomination_id'], ['voting_nomination.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('nomination_id', 'person_id')
    )
    with op.batch_alter_table('voting_nomination_support', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voting_nomination_support_nomination_id'), ['nomination_id'],
                              unique=False)
        batch_op.create_index('ix_voting_nomination_support_ballot_person', ['ballot_id', 'person_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('voting_nomination_support')
    op.drop_table('voting_nomination')
    with op.batch_alter_table('voting_ballot', schema=None) as batch_op:
        batch_op.drop_column('candidates_published_at')
        batch_op.drop_column('seats')
