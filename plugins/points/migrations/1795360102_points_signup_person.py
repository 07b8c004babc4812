"""points sign-ups for a person on the register, with or without an account

Staff sign a resident up at the desk (代办): the sign-up is that person's, linked to their register
entry's person, also when they have no account (then it carries their register name). A person
holds one place per activity (unique), however they were signed up. Existing sign-ups get the
person of their account in the activity's community.

Revision ID: 1795360102
Revises: 1795340000
Create Date: 2026-12-07 21:10:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = '1795360102'
down_revision: Union[str, Sequence[str], None] = '1795340000'
branch_labels: Union[str, Sequence[str], None] = ()
depends_on: Union[str, Sequence[str], None] = '1795350000'


def upgrade() -> None:
    with op.batch_alter_table('points_signup', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('name', sa.String(length=80), nullable=True))
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)
    op.execute("UPDATE points_signup SET person_id = (SELECT person.id FROM person JOIN points_activity "
               "ON points_activity.community_id = person.community_id "
               "WHERE points_activity.id = points_signup.activity_id AND person.user_id = points_signup.user_id)")
    with op.batch_alter_table('points_signup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_signup_person_id'), ['person_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_points_signup_activity_id_person_id'),
                                          ['activity_id', 'person_id'])
        batch_op.create_foreign_key(batch_op.f('fk_points_signup_person_id_person'), 'person',
                                    ['person_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    """Sign-ups of people without an account are dropped (an account-only table cannot hold them)."""
    op.execute("UPDATE points_activity SET signups_count = signups_count - (SELECT count(*) FROM points_signup "
               "WHERE points_signup.activity_id = points_activity.id AND points_signup.user_id IS NULL)")
    op.execute("DELETE FROM points_signup WHERE user_id IS NULL")
    with op.batch_alter_table('points_signup', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_points_signup_person_id_person'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_points_signup_activity_id_person_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_points_signup_person_id'))
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('name')
        batch_op.drop_column('person_id')
