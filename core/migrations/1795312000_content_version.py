"""content version: the counter cached pages are keyed by (issue 8)

Revision ID: 1795312000
Revises: 1795305344
Create Date: 2026-11-22 02:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1795312000'
down_revision: Union[str, Sequence[str], None] = '1795305344'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    table = op.create_table('content_version',
                            sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
                            sa.Column('n', sa.BigInteger(), nullable=False),
                            sa.PrimaryKeyConstraint('id', name=op.f('pk_content_version')))
    op.bulk_insert(table, [{'id': 1, 'n': 0}])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('content_version')
