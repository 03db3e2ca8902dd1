"""Leadership: the epoch row a leader bumps when it takes over, checked by every commit.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "leadership",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        sa.Column("leader", sa.Text, nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "epoch": 0, "leader": ""}])


def downgrade() -> None:
    op.drop_table("leadership")
