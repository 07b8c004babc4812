"""content version: a sequence on PostgreSQL, bumped after the commit (issue 8)

Revision ID: 1795330000
Revises: 1795312000
Create Date: 2026-12-04 14:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1795330000'
down_revision: Union[str, Sequence[str], None] = '1795312000'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps the one-row table (core/pagecache.py)
    op.execute(sa.schema.CreateSequence(sa.Sequence("content_version_seq")))
    # Past every number the table gave out: pages cached before the upgrade are not served again.
    op.execute("SELECT setval('content_version_seq', COALESCE((SELECT n FROM content_version WHERE id = 1), 0) + 1)")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence("content_version_seq")))
