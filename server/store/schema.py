"""Table definitions, shared by the store and the Alembic migrations."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, MetaData, PrimaryKeyConstraint, String, Table, Text

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("name", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("prev", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

participation = Table(
    "participation",
    metadata,
    Column("ballot", String(128), nullable=False),
    Column("run", Integer, nullable=False),
    Column("member", String(128), nullable=False),
    Column("seq", Integer, nullable=False),
    PrimaryKeyConstraint("ballot", "run", "member", name="one_vote_per_member"),
)

# The urn of secret ballots. No member, no time, no sequence; on SQLite a table WITHOUT
# ROWID, so rows are stored in the order of their random ids, not of insertion.
urn = Table(
    "urn",
    metadata,
    Column("entry", String(64), primary_key=True),
    Column("ballot", String(128), nullable=False),
    Column("run", Integer, nullable=False),
    Column("choice", Text, nullable=False),
    sqlite_with_rowid=False,
)

# One row (id 1): the epoch of the current leader (server/store/leadership.py). Every
# commit on PostgreSQL reads it FOR SHARE and must find its own epoch there.
leadership = Table(
    "leadership",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("epoch", BigInteger, nullable=False),
    Column("leader", Text, nullable=False),
)
