"""What an export is made of: a `Sheet` of typed `Column`s and rows of `Cell`s.

The types, and the column widths that decide whether a sheet prints portrait or landscape, with no
spreadsheet library: `tracker.exporters.sheets` and `tracker.exporters.flow_sheets` build sheets from the
report, and the xlsx, csv and html writers render them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice

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
    STATUS = "status"
    """A clock's status word; "Breached" is marked (filled red) in xlsx and html."""


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
    title: str = ""
    """What the sheet lists, for its printed page header ("KPI 2: LA/ICB notified"); default: its name."""

    @property
    def heading(self) -> str:
        """The title, or the name when it has none."""
        return self.title or self.name


PORTRAIT_WIDTH = 100
"""Column-width units (characters) that fit across a portrait A4 page at full size."""
NOTES_WIDTHS = (24, 74)
"""The Notes' two columns, its definitions wrapped: a portrait page."""
_MAX_WIDTH = 60
_WIDTH_SAMPLE = 2000  # rows measured for column widths: enough to see every kind of value in a long sheet


def portrait(widths: Sequence[int]) -> bool:
    """Whether columns this wide (`column_widths`) print on a portrait page; otherwise landscape."""
    return sum(widths) <= PORTRAIT_WIDTH


def column_widths(sheet: Sheet) -> list[int]:
    """Each column's width in characters: its widest cell of the first rows, at most `_MAX_WIDTH`.

    The xlsx columns' widths, and what decides whether a sheet prints portrait (`portrait`) in every format.
    """
    widths = [len(column.title) for column in sheet.columns]
    for row in islice(sheet.rows, _WIDTH_SAMPLE):
        for i, value in enumerate(row):
            widths[i] = max(widths[i], _width(value, sheet.columns[i].kind))
    if sheet.about:
        widths[0] = max(widths[0], *(len(key) for key, _ in sheet.about))
        about_widths = (_width(v, Kind.DATE if isinstance(v, dt.date) else Kind.TEXT) for _, v in sheet.about)
        widths[1] = max(widths[1], *about_widths)
    return [min(width + 2, _MAX_WIDTH) for width in widths]


def _width(value: Cell, kind: Kind) -> int:
    if value is None:
        return 0
    if kind is Kind.DATE:
        return 10
    if kind is Kind.PERCENT and not isinstance(value, str):  # or words: "target not set"
        return 7
    return len(str(value))
