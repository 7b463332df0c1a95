"""Alembic migrations of the caseclock schema; run by `caseclock init` (see tracker.store.engine.upgrade)."""
