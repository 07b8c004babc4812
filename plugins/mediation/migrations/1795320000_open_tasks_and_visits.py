"""open tasks and follow-up visits (issue 8: the case list stays flat at 100,000 cases)

Revision ID: 1795320000
Revises: 1795314000
Create Date: 2026-11-22 05:40:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '1795320000'
down_revision: Union[str, Sequence[str], None] = '1795314000'
branch_labels: Union[str, Sequence[str], None] = ()
depends_on: Union[str, Sequence[str], None] = None

OPEN = sa.text("done_at IS NULL")


def upgrade() -> None:
    op.create_index('ix_mediation_task_open', 'mediation_task', ['case_id'], unique=False,
                    sqlite_where=OPEN, postgresql_where=OPEN)
    op.create_index('ix_mediation_followup_open', 'mediation_followup', ['due_on', 'case_id'], unique=False,
                    sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index('ix_mediation_followup_open', table_name='mediation_followup')
    op.drop_index('ix_mediation_task_open', table_name='mediation_task')
