"""caseclock: a case tracker with statutory-deadline alerting (see README.md for the map of its packages)."""
