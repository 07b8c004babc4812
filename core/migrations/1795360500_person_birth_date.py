"""person birth date: who is 18 or over for a residents' meeting (Organic Law Art. 9–10, R12–R13)

A date of birth, or only its year (then the 31 December of that year with ``birth_year_only``).
Everyone already on the register has none until staff record it or an import brings it.

Revision ID: 1795360500
Revises: 1795350000
Create Date: 2026-12-07 21:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1795360500'
down_revision: Union[str, Sequence[str], None] = '1795350000'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birth_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('birth_year_only', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint(batch_op.f('ck_person_birth_year_has_date'),
                                         'NOT birth_year_only OR birth_date IS NOT NULL')


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_person_birth_year_has_date'), type_='check')
        batch_op.drop_column('birth_year_only')
        batch_op.drop_column('birth_date')
