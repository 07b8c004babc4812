"""assisted actions for a person on the register: proposals, seconds and comments carry the person

A building head or staff member acting for a resident (代办) records the action as that resident's,
linked to their register entry's person, with or without an account. Seconds are unique per
person as well as per account, so a person is counted once however the second arrives. Existing
seconds get the person of their account in the proposal's community.

Revision ID: 1795360100
Revises: 1795360400
Create Date: 2026-12-07 21:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1795360100'
down_revision: Union[str, Sequence[str], None] = '1795360400'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_person_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_proposal_author_person_id'), ['author_person_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_proposal_author_person_id_person'), 'person',
                                    ['author_person_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('proposal_comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_person_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_proposal_comment_author_person_id'), ['author_person_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_proposal_comment_author_person_id_person'), 'person',
                                    ['author_person_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('proposal_second', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_id', sa.Integer(), nullable=True))
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)
    # Existing seconds and comments: the person of their account in the proposal's community.
    op.execute("UPDATE proposal_second SET person_id = (SELECT person.id FROM person JOIN proposal "
               "ON proposal.community_id = person.community_id WHERE proposal.id = proposal_second.proposal_id "
               "AND person.user_id = proposal_second.user_id) WHERE user_id IS NOT NULL")
    op.execute("UPDATE proposal_comment SET author_person_id = (SELECT person.id FROM person JOIN proposal "
               "ON proposal.community_id = person.community_id WHERE proposal.id = proposal_comment.proposal_id "
               "AND person.user_id = proposal_comment.author_id) WHERE author_id IS NOT NULL")
    op.execute("UPDATE proposal SET author_person_id = (SELECT person.id FROM person "
               "WHERE person.community_id = proposal.community_id AND person.user_id = proposal.author_id) "
               "WHERE author_id IS NOT NULL")
    with op.batch_alter_table('proposal_second', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_second_person_id'), ['person_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_proposal_second_proposal_id_person_id'),
                                          ['proposal_id', 'person_id'])
        batch_op.create_foreign_key(batch_op.f('fk_proposal_second_person_id_person'), 'person',
                                    ['person_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    """Downgrade schema: seconds recorded for a person without an account are dropped (an
    account-only table cannot hold them)."""
    op.execute("DELETE FROM proposal_second WHERE user_id IS NULL")
    with op.batch_alter_table('proposal_second', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_proposal_second_person_id_person'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_proposal_second_proposal_id_person_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_proposal_second_person_id'))
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('person_id')
    with op.batch_alter_table('proposal_comment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_proposal_comment_author_person_id_person'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_proposal_comment_author_person_id'))
        batch_op.drop_column('author_person_id')
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_proposal_author_person_id_person'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_proposal_author_person_id'))
        batch_op.drop_column('author_person_id')
