"""The store: the event log and the projections the append keeps in step, on SQLite or PostgreSQL.

`engine` opens the database, `schema` and `migrations` define it, `cases` appends events and folds them into
the `cases` and `clocks` projections (`statements` and `rows` are its SQL and row shapes), and `rebuild`
recomputes them. `guards` keeps the database's own refusal of any change to the history in place (`init`),
and `chain_check` recomputes each case's hash chain (`verify`). Everything else reads through `Store`.
"""

from tracker.store.cases import CaseRecord, CaseSummary, ReportEvent, Store, voided_events

__all__ = ["CaseRecord", "CaseSummary", "ReportEvent", "Store", "voided_events"]
