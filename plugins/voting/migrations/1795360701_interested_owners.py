"""who is interested in a unanimity ballot (Civil Code Art. 279)

A ballot under the rule "unanimous" (turning a home into business premises) needs the consent of
every interested owner: by default the owners of the building in scope; staff may add other
buildings and exclusive units (SPC Interpretation on Building Ownership Art. 11). Existing ballots
keep null: nothing changes for them.

Revision ID: 1795360701
Revises: 1795351000
Create Date: 2026-12-07 21:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1795360701'
down_revision: Union[str, Sequence[str], None] = '1795351000'
branch_labels: Union[str, Sequence[str], None] = ()
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('voting_ballot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interested', sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('voting_ballot', schema=None) as batch_op:
        batch_op.drop_column('interested')
