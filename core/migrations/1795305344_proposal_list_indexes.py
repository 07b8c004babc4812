"""proposal list indexes (issue 8: the list stays flat from 1,000 to 100,000 proposals)

Revision ID: 1795305344
Revises: 1795302852
Create Date: 2026-11-21 23:58:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '1795305344'
down_revision: Union[str, Sequence[str], None] = '1795302852'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.create_index('ix_proposal_community_updated', ['community_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_proposal_community_visible', ['community_id', 'state', 'author_id',
                                                                'submitted_by_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_index('ix_proposal_community_visible')
        batch_op.drop_index('ix_proposal_community_updated')
