"""community config version: what workers keep of settings and rules is keyed by it (issue 8)

Revision ID: 1795330100
Revises: 1795330000
Create Date: 2026-12-04 15:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1795330100'
down_revision: Union[str, Sequence[str], None] = '1795330000'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('community') as batch_op:
        batch_op.add_column(sa.Column('config_version', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('community') as batch_op:
        batch_op.drop_column('config_version')
