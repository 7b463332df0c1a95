"""The database schema revision this release reads and writes.

Kept apart from `tracker.store.schema` (the SQLAlchemy tables) so that code which only checks the revision
need not import SQLAlchemy.
"""

SCHEMA_HEAD = "0011"
"""The Alembic revision (`tracker/store/migrations/versions`) this release's code expects."""
