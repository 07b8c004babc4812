"""registration: where the resident says they live, consent to the privacy notice, one-time
password reset codes (issue 20)

Revision ID: 1795360400
Revises: 1795360500
Create Date: 2026-12-07 21:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1795360400'
down_revision: Union[str, Sequence[str], None] = '1795360500'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('user') as batch:
        batch.add_column(sa.Column('privacy_consent_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('privacy_notice_version', sa.String(length=20), nullable=True))
    with op.batch_alter_table('membership') as batch:
        batch.add_column(sa.Column('claimed_household_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('claimed_address', sa.String(length=200), nullable=True))
        batch.create_foreign_key(batch.f('fk_membership_claimed_household_id_household'), 'household',
                                 ['claimed_household_id'], ['id'], ondelete='SET NULL')
    op.create_table('password_reset_code',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('user_id', sa.Integer(), nullable=False),
                    sa.Column('community_id', sa.Integer(), nullable=True),
                    sa.Column('code_hash', sa.String(length=255), nullable=False),
                    sa.Column('issued_by_id', sa.Integer(), nullable=True),
                    sa.Column('created_at', sa.DateTime(), nullable=False),
                    sa.Column('expires_at', sa.DateTime(), nullable=False),
                    sa.Column('used_at', sa.DateTime(), nullable=True),
                    sa.Column('attempts', sa.Integer(), nullable=False),
                    sa.ForeignKeyConstraint(['community_id'], ['community.id'],
                                            name=op.f('fk_password_reset_code_community_id_community'),
                                            ondelete='SET NULL'),
                    sa.ForeignKeyConstraint(['issued_by_id'], ['user.id'],
                                            name=op.f('fk_password_reset_code_issued_by_id_user'), ondelete='SET NULL'),
                    sa.ForeignKeyConstraint(['user_id'], ['user.id'],
                                            name=op.f('fk_password_reset_code_user_id_user'), ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset_code')))
    op.create_index(op.f('ix_password_reset_code_user_id'), 'password_reset_code', ['user_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_password_reset_code_user_id'), table_name='password_reset_code')
    op.drop_table('password_reset_code')
    with op.batch_alter_table('membership') as batch:
        batch.drop_constraint(batch.f('fk_membership_claimed_household_id_household'), type_='foreignkey')
        batch.drop_column('claimed_address')
        batch.drop_column('claimed_household_id')
    with op.batch_alter_table('user') as batch:
        batch.drop_column('privacy_notice_version')
        batch.drop_column('privacy_consent_at')
