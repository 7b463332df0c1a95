"""The rule packs shipped with caseclock, as TOML data (`*.toml` beside this file).

This is a data package: it holds no code, so that a deployment can copy a pack, edit it and point
`packs.dirs` at its own directory. `tracker.rules` loads and validates the files.
"""
