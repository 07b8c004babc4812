"""a party's stop and private-hearing requests, extensions of the one-month target, judicial confirmation

Revision ID: 1795336118
Revises: 1795320000
Create Date: 2026-11-23 09:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '1795336118'
down_revision: Union[str, Sequence[str], None] = '1795320000'
branch_labels: Union[str, Sequence[str], None] = ()
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('mediation_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extended_until', sa.Date(), nullable=True))

    with op.batch_alter_table('mediation_party', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stop_requested_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('private_requested_at', sa.DateTime(), nullable=True))

    op.create_table('mediation_confirmation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('agreed_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['mediation_agreement.id'], name=op.f('fk_mediation_confirmation_agreement_id_mediation_agreement'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['mediation_party.id'], name=op.f('fk_mediation_confirmation_party_id_mediation_party'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_mediation_confirmation_recorded_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediation_confirmation')),
    sa.UniqueConstraint('agreement_id', 'party_id', name=op.f('uq_mediation_confirmation_agreement_id_party_id'))
    )
    with op.batch_alter_table('mediation_confirmation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediation_confirmation_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mediation_confirmation_party_id'), ['party_id'], unique=False)

    op.create_table('mediation_extension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('until', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['mediation_case.id'], name=op.f('fk_mediation_extension_case_id_mediation_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_mediation_extension_recorded_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediation_extension'))
    )
    with op.batch_alter_table('mediation_extension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediation_extension_case_id'), ['case_id'], unique=False)

    op.create_table('mediation_extension_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('extension_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('consented_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['extension_id'], ['mediation_extension.id'], name=op.f('fk_mediation_extension_consent_extension_id_mediation_extension'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['mediation_party.id'], name=op.f('fk_mediation_extension_consent_party_id_mediation_party'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediation_extension_consent')),
    sa.UniqueConstraint('extension_id', 'party_id', name=op.f('uq_mediation_extension_consent_extension_id_party_id'))
    )
    with op.batch_alter_table('mediation_extension_consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediation_extension_consent_extension_id'), ['extension_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mediation_extension_consent_party_id'), ['party_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mediation_extension_consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediation_extension_consent_party_id'))
        batch_op.drop_index(batch_op.f('ix_mediation_extension_consent_extension_id'))
    op.drop_table('mediation_extension_consent')

    with op.batch_alter_table('mediation_extension', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediation_extension_case_id'))
    op.drop_table('mediation_extension')

    with op.batch_alter_table('mediation_confirmation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediation_confirmation_party_id'))
        batch_op.drop_index(batch_op.f('ix_mediation_confirmation_agreement_id'))
    op.drop_table('mediation_confirmation')

    with op.batch_alter_table('mediation_party', schema=None) as batch_op:
        batch_op.drop_column('private_requested_at')
        batch_op.drop_column('stop_requested_at')

    with op.batch_alter_table('mediation_case', schema=None) as batch_op:
        batch_op.drop_column('extended_until')
