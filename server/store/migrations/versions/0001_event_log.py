"""The event log, participation and the secret urn.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("prev", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "participation",
        sa.Column("ballot", sa.String(128), nullable=False),
        sa.Column("run", sa.Integer, nullable=False),
        sa.Column("member", sa.String(128), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("ballot", "run", "member", name="one_vote_per_member"),
    )
    op.create_table(
        "urn",
        sa.Column("entry", sa.String(64), primary_key=True),
        sa.Column("ballot", sa.String(128), nullable=False),
        sa.Column("run", sa.Integer, nullable=False),
        sa.Column("choice", sa.Text, nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("urn")
    op.drop_table("participation")
    op.drop_table("events")
