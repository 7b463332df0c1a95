"""What an export is made of: a `Sheet` of typed `Column`s and rows of `Cell`s.

The types only, with no layout decisions and no spreadsheet library: `tracker.exporters.sheets` and
`tracker.exporters.flow_sheets` build sheets from the report, and the xlsx, csv and html writers render them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

Cell = str | int | float | dt.date | None


class Kind(StrEnum):
    """How a column's cells are shown."""

    TEXT = "text"
    INT = "int"
    COUNT = "count"
    """A count of people: a whole number, or "<5" or "[c]" when suppressed (any number may read "[c]")."""
    NUMBER = "number"
    DATE = "date"
    PERCENT = "percent"
    """0-100 with one decimal (the JSON figure); xlsx stores it as a fraction with a percent format."""
    RAG = "rag"
    """green / amber / red / empty, filled with its colour in xlsx and html."""


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its heading and how its cells are shown."""

    title: str
    kind: Kind = Kind.TEXT


class Rows:
    """A long sheet's rows, made afresh on each pass instead of held in memory (a year is ~200,000 clocks)."""

    def __init__(self, make: Callable[[], Iterator[Sequence[Cell]]], length: int) -> None:
        self._make = make
        self._length = length

    def __iter__(self) -> Iterator[Sequence[Cell]]:
        return self._make()

    def __len__(self) -> int:
        return self._length


@dataclass(frozen=True, slots=True)
class Sheet:
    """One sheet of the workbook (one CSV file of the zip)."""

    name: str
    """The sheet's tab name (at most 31 characters, as Excel requires)."""
    slug: str
    """The CSV file name without `.csv`."""
    columns: tuple[Column, ...]
    rows: Sequence[Sequence[Cell]] | Rows
    about: tuple[tuple[str, Cell], ...] = ()
    """Key/value lines shown above the table."""
