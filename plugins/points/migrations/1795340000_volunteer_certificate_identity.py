"""volunteer certificate: identity document, volunteer number and issuer details

Revision ID: 1795340000
Revises: 1795303555
Create Date: 2026-12-07 17:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = '1795340000'
down_revision: Union[str, Sequence[str], None] = '1795303555'
branch_labels: Union[str, Sequence[str], None] = ()
depends_on: Union[str, Sequence[str], None] = None

PROFILE = ("id_type", 20), ("id_number", 40), ("volunteer_number", 40)
CERTIFICATE = (("holder_id_type", 20), ("holder_id_number", 40), ("volunteer_number", 40), ("issuer_name", 200),
               ("issuer_head", 80), ("issuer_contact", 80), ("handler_name", 80))


def upgrade() -> None:
    with op.batch_alter_table('points_profile', schema=None) as batch_op:
        for name, length in PROFILE:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))
    with op.batch_alter_table('points_certificate', schema=None) as batch_op:
        for name, length in CERTIFICATE:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('points_certificate', schema=None) as batch_op:
        for name, _length in reversed(CERTIFICATE):
            batch_op.drop_column(name)
    with op.batch_alter_table('points_profile', schema=None) as batch_op:
        for name, _length in reversed(PROFILE):
            batch_op.drop_column(name)
