"""a residents' meeting (居民会议, Organic Law Art. 9): its electorate mode and group representatives

A ballot under the rule "residents_meeting" names who makes up the meeting (residents aged 18 or
over, household representatives, or the representatives of the residents' groups) and, for the
last, the representatives staff chose. The rule's name needs a longer column. Existing ballots
keep null: nothing changes for them.

Revision ID: 1795360510
Revises: 1795360800
Create Date: 2026-12-07 21:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1795360510'
down_revision: Union[str, Sequence[str], None] = '1795360800'
branch_labels: Union[str, Sequence[str], None] = ()
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('voting_ballot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('electorate_mode', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('group_representatives', sa.JSON(), nullable=True))
        batch_op.alter_column('rule', existing_type=sa.String(length=15), type_=sa.String(length=20),
                              existing_nullable=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("UPDATE voting_ballot SET rule = 'simple' WHERE rule = 'residents_meeting'")
    with op.batch_alter_table('voting_ballot', schema=None) as batch_op:
        batch_op.alter_column('rule', existing_type=sa.String(length=20), type_=sa.String(length=15),
                              existing_nullable=False)
        batch_op.drop_column('group_representatives')
        batch_op.drop_column('electorate_mode')
