"""persons: one person per human being on the register, whatever units and account point to them

Every register entry gets a person: the entries linked to one account in a community share that
account's person; every other entry is a person of its own. Nobody is merged by name (R5): two
entries of the same name become two people, listed for staff under "Possible duplicates".

Revision ID: 1795350000
Revises: 1795346000
Create Date: 2026-12-08 10:00:00.000000

"""
from datetime import datetime, timezone
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1795350000'
down_revision: Union[str, Sequence[str], None] = '1795346000'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('person',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('community_id', sa.Integer(), nullable=False),
                    sa.Column('user_id', sa.Integer(), nullable=True),
                    sa.Column('id_type', sa.String(length=20), nullable=True),
                    sa.Column('id_hash', sa.String(length=64), nullable=True),
                    sa.Column('id_last4', sa.String(length=4), nullable=True),
                    sa.Column('created_at', sa.DateTime(), nullable=False),
                    sa.CheckConstraint('id_hash IS NULL OR (id_type IS NOT NULL AND id_last4 IS NOT NULL)',
                                       name=op.f('ck_person_id_complete')),
                    sa.ForeignKeyConstraint(['community_id'], ['community.id'],
                                            name=op.f('fk_person_community_id_community'), ondelete='CASCADE'),
                    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_person_user_id_user'),
                                            ondelete='SET NULL'),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
                    sa.UniqueConstraint('community_id', 'id_hash', name=op.f('uq_person_community_id_id_hash')),
                    sa.UniqueConstraint('community_id', 'user_id', name=op.f('uq_person_community_id_user_id')))
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_user_id'), ['user_id'], unique=False)

    op.create_table('person_distinct',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('community_id', sa.Integer(), nullable=False),
                    sa.Column('person_id', sa.Integer(), nullable=False),
                    sa.Column('other_id', sa.Integer(), nullable=False),
                    sa.Column('decided_by_id', sa.Integer(), nullable=True),
                    sa.Column('decided_at', sa.DateTime(), nullable=False),
                    sa.CheckConstraint('person_id < other_id', name=op.f('ck_person_distinct_ordered')),
                    sa.ForeignKeyConstraint(['community_id'], ['community.id'],
                                            name=op.f('fk_person_distinct_community_id_community'), ondelete='CASCADE'),
                    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'],
                                            name=op.f('fk_person_distinct_decided_by_id_user'), ondelete='SET NULL'),
                    sa.ForeignKeyConstraint(['other_id'], ['person.id'],
                                            name=op.f('fk_person_distinct_other_id_person'), ondelete='CASCADE'),
                    sa.ForeignKeyConstraint(['person_id'], ['person.id'],
                                            name=op.f('fk_person_distinct_person_id_person'), ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_distinct')),
                    sa.UniqueConstraint('person_id', 'other_id', name=op.f('uq_person_distinct_person_id_other_id')))
    with op.batch_alter_table('person_distinct', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_distinct_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_distinct_other_id'), ['other_id'], unique=False)

    with op.batch_alter_table('household_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_id', sa.Integer(), nullable=True))
    _backfill()
    with op.batch_alter_table('household_member', schema=None) as batch_op:
        batch_op.alter_column('person_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_household_member_person_id'), ['person_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_household_member_person_id_person'), 'person',
                                    ['person_id'], ['id'])


def _backfill():
    """One person per account and community; one person per entry without an account."""
    conn = op.get_bind()
    person = sa.table('person', sa.column('id', sa.Integer), sa.column('community_id', sa.Integer),
                      sa.column('user_id', sa.Integer), sa.column('created_at', sa.DateTime))
    member = sa.table('household_member', sa.column('id', sa.Integer), sa.column('person_id', sa.Integer))
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = conn.execute(sa.text(
        'SELECT m.id, h.community_id, m.user_id FROM household_member m '
        'JOIN household h ON h.id = m.household_id ORDER BY m.id')).all()
    of_account = {}
    for member_id, community_id, user_id in rows:  # bounded by the rows of the register
        person_id = of_account.get((community_id, user_id)) if user_id is not None else None
        if person_id is None:
            person_id = conn.execute(person.insert().values(community_id=community_id, user_id=user_id,
                                                            created_at=now).returning(person.c.id)).scalar_one()
            if user_id is not None:
                of_account[(community_id, user_id)] = person_id
        conn.execute(member.update().where(member.c.id == member_id).values(person_id=person_id))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('household_member', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_household_member_person_id_person'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_household_member_person_id'))
        batch_op.drop_column('person_id')
    with op.batch_alter_table('person_distinct', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_distinct_other_id'))
        batch_op.drop_index(batch_op.f('ix_person_distinct_community_id'))
    op.drop_table('person_distinct')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_user_id'))
        batch_op.drop_index(batch_op.f('ix_person_community_id'))
    op.drop_table('person')
