"""decision rule of a body (R28), motions to rescind, minutes approved by named delegates

Revision ID: 1795331908
Revises: 1795303473
Create Date: 2026-11-22 06:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1795331908'
down_revision: Union[str, Sequence[str], None] = '1795303473'
branch_labels: Union[str, Sequence[str], None] = ()
depends_on: Union[str, Sequence[str], None] = None

DECIDED = sa.text("outcome = 'decided'")
RULES = "IN ('majority', 'two_thirds')"

# SQLite: no batch mode. Batch mode copies a table to a new one and drops the old, and with
# foreign keys enforced (core.web turns them on) dropping meetings_body or meetings_resolution
# deletes, by ON DELETE CASCADE, every organisation, meeting, resolution and action item. So the
# new columns are added in place (ALTER TABLE ... ADD COLUMN may carry a CHECK and a REFERENCES
# clause; SQLite does not reflect an ON DELETE action given there, so the new references have
# none, on PostgreSQL too). The downgrade leaves them on SQLite, where the older code ignores
# them; upgrading again adds only the columns that are missing.
SQLITE_COLUMNS = [
    ("meetings_body", "decision_rule VARCHAR(12) DEFAULT 'majority' NOT NULL "
                      f"CONSTRAINT ck_meetings_body_decision_rule CHECK (decision_rule {RULES})"),
    ("meetings_resolution", f"rule VARCHAR(12) DEFAULT 'majority' NOT NULL CONSTRAINT ck_meetings_resolution_rule "
                            f"CHECK (rule {RULES})"),
    ("meetings_resolution", "rescinds_id INTEGER CONSTRAINT fk_meetings_resolution_rescinds_id_meetings_resolution "
                            "REFERENCES meetings_resolution (id)"),
    ("meetings_resolution", "notice_given BOOLEAN DEFAULT 0 NOT NULL"),
    ("meetings_minutes_approval", "delegate_id INTEGER CONSTRAINT "
                                  "fk_meetings_minutes_approval_delegate_id_meetings_delegate "
                                  "REFERENCES meetings_delegate (id)"),
    ("meetings_minutes_approval", "on_behalf BOOLEAN DEFAULT 0 NOT NULL"),
    ("meetings_minutes_approval", "reason VARCHAR(300)"),
]


def _sqlite():
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    """Upgrade schema."""
    if _sqlite():
        inspector = sa.inspect(op.get_bind())
        for table, column in SQLITE_COLUMNS:
            if column.split()[0] not in {c["name"] for c in inspector.get_columns(table)}:
                op.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
    else:
        op.add_column('meetings_body', sa.Column('decision_rule', sa.String(length=12), nullable=False,
                                                 server_default='majority'))
        op.create_check_constraint(op.f('ck_meetings_body_decision_rule'), 'meetings_body', f"decision_rule {RULES}")
        op.add_column('meetings_resolution', sa.Column('rule', sa.String(length=12), nullable=False,
                                                       server_default='majority'))
        op.add_column('meetings_resolution', sa.Column('rescinds_id', sa.Integer(), nullable=True))
        op.add_column('meetings_resolution', sa.Column('notice_given', sa.Boolean(), nullable=False,
                                                       server_default=sa.false()))
        op.create_check_constraint(op.f('ck_meetings_resolution_rule'), 'meetings_resolution', f"rule {RULES}")
        op.create_foreign_key(op.f('fk_meetings_resolution_rescinds_id_meetings_resolution'), 'meetings_resolution',
                              'meetings_resolution', ['rescinds_id'], ['id'])
        op.add_column('meetings_minutes_approval', sa.Column('delegate_id', sa.Integer(), nullable=True))
        op.add_column('meetings_minutes_approval', sa.Column('on_behalf', sa.Boolean(), nullable=False,
                                                             server_default=sa.false()))
        op.add_column('meetings_minutes_approval', sa.Column('reason', sa.String(length=300), nullable=True))
        op.create_foreign_key(op.f('fk_meetings_minutes_approval_delegate_id_meetings_delegate'),
                              'meetings_minutes_approval', 'meetings_delegate', ['delegate_id'], ['id'])
    op.create_index('ix_meetings_resolution_rescinded_once', 'meetings_resolution', ['rescinds_id'], unique=True,
                    sqlite_where=DECIDED, postgresql_where=DECIDED)

    # Approvals given so far: the approving account's own delegate row when it had one for the
    # organisation; otherwise a staff member approved for the organisation without naming anyone,
    # which is now shown as recorded on the organisation's behalf with no delegate named.
    approval = sa.table('meetings_minutes_approval', sa.column('org_id', sa.Integer),
                        sa.column('user_id', sa.Integer), sa.column('delegate_id', sa.Integer),
                        sa.column('on_behalf', sa.Boolean))
    delegate = sa.table('meetings_delegate', sa.column('id', sa.Integer), sa.column('org_id', sa.Integer),
                        sa.column('user_id', sa.Integer))
    own = (sa.select(sa.func.min(delegate.c.id))
           .where(delegate.c.org_id == approval.c.org_id, delegate.c.user_id == approval.c.user_id)
           .scalar_subquery())
    op.execute(approval.update().where(approval.c.delegate_id.is_(None)).values(delegate_id=own))
    op.execute(approval.update().where(approval.c.delegate_id.is_(None)).values(on_behalf=True))


def downgrade() -> None:
    """Downgrade schema. On SQLite the new columns stay (see above)."""
    op.drop_index('ix_meetings_resolution_rescinded_once', table_name='meetings_resolution',
                  sqlite_where=DECIDED, postgresql_where=DECIDED)
    if _sqlite():
        return
    op.drop_constraint(op.f('fk_meetings_minutes_approval_delegate_id_meetings_delegate'), 'meetings_minutes_approval',
                       type_='foreignkey')
    for column in ('reason', 'on_behalf', 'delegate_id'):
        op.drop_column('meetings_minutes_approval', column)
    op.drop_constraint(op.f('fk_meetings_resolution_rescinds_id_meetings_resolution'), 'meetings_resolution',
                       type_='foreignkey')
    op.drop_constraint(op.f('ck_meetings_resolution_rule'), 'meetings_resolution', type_='check')
    for column in ('notice_given', 'rescinds_id', 'rule'):
        op.drop_column('meetings_resolution', column)
    op.drop_constraint(op.f('ck_meetings_body_decision_rule'), 'meetings_body', type_='check')
    op.drop_column('meetings_body', 'decision_rule')
