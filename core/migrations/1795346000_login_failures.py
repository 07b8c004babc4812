"""login failures: failed sign-ins counted per account and address in the database (issue 16)

Revision ID: 1795346000
Revises: 1795330100
Create Date: 2026-12-07 18:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1795346000'
down_revision: Union[str, Sequence[str], None] = '1795330100'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('login_failure',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('account', sa.String(length=50), nullable=False),
                    sa.Column('address', sa.String(length=50), nullable=False),
                    sa.Column('at', sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure')))
    op.create_index('ix_login_failure_account_at', 'login_failure', ['account', 'at'], unique=False)
    op.create_index('ix_login_failure_at', 'login_failure', ['at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_login_failure_at', table_name='login_failure')
    op.drop_index('ix_login_failure_account_at', table_name='login_failure')
    op.drop_table('login_failure')
