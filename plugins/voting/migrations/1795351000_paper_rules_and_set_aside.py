"""paper rules (refuse, paper_wins, first_wins) and ballots set aside

A paper ballot entered after a voter's online vote follows the ballot's paper rule; under
"first_wins" it is recorded without counting (voting_entry.set_aside, marked so in the chain).
The old rule "latest" is now called "paper_wins" where it can still change: the communities'
setting and ballots in preparation. Ballots already opened keep the rule frozen in their manifest.

Revision ID: 1795351000
Revises: 1795310000
Create Date: 2026-12-08 12:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1795351000'
down_revision: Union[str, Sequence[str], None] = '1795310000'
branch_labels: Union[str, Sequence[str], None] = ()
depends_on: Union[str, Sequence[str], None] = None


def _rename(old, new):
    settings = sa.table("community_setting", sa.column("module", sa.String), sa.column("key", sa.String),
                        sa.column("value", sa.JSON))
    # JSON has no equality on PostgreSQL: compare its text ('"latest"').
    op.execute(settings.update().where(settings.c.module == "voting", settings.c.key == "paper_rule",
                                       sa.cast(settings.c.value, sa.Text) == f'"{old}"').values(value=new))
    ballots = sa.table("voting_ballot", sa.column("paper_rule", sa.String), sa.column("state", sa.String))
    op.execute(ballots.update().where(ballots.c.paper_rule == old, ballots.c.state == "draft").values(paper_rule=new))


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('voting_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('set_aside', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('voting_entry', schema=None) as batch_op:
        batch_op.alter_column('set_aside', server_default=None)
    _rename("latest", "paper_wins")


def downgrade() -> None:
    """Downgrade schema."""
    _rename("paper_wins", "latest")
    _rename("first_wins", "refuse")
    with op.batch_alter_table('voting_entry', schema=None) as batch_op:
        batch_op.drop_column('set_aside')
