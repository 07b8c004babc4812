"""case list index (issue 8: the case list stays flat from 1,000 to 100,000 cases)

Revision ID: 1795314000
Revises: 1795308672
Create Date: 2026-11-22 03:50:00

"""
from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '1795314000'
down_revision: Union[str, Sequence[str], None] = '1795308672'
branch_labels: Union[str, Sequence[str], None] = ()
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_mediation_case_list', 'mediation_case', ['community_id', 'status', 'opened_at', 'id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_mediation_case_list', table_name='mediation_case')
