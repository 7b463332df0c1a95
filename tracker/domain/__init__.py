"""The rules of the work, with no database, network or screen: what caseclock knows about cases.

`calendar` (working days), `rules` (rule packs), `workflow` (deciding and folding a case's events),
`clocks` (deadlines and their status), `periods` and `compliance` (what a report counts) and the small
pieces they share (`dates`, `events`, `fields`, `errors`, `config`). Imports only the standard library,
pydantic, holidays, numpy and platformdirs; import-linter keeps it that way.
"""
