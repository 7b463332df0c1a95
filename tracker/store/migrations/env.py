"""Alembic environment: runs migrations on the connection `tracker.store.engine.upgrade` hands over.

caseclock never runs the `alembic` command line against a URL from an ini file: the database URL comes from
`--db`/`CASECLOCK_DB`, so the caller opens the connection and passes it in `config.attributes`.
"""

from __future__ import annotations

from alembic import context

from tracker.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
