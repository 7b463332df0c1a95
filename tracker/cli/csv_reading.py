"""Reading an imported CSV file row by row, refusing every row whose shape cannot be trusted.

`tracker.cli.importing` checks what the rows say; this module checks that a row is a row. Python's `csv`
module takes a lot on trust: an unbalanced quote swallows the following lines into one field, a row with
one cell too many shifts nothing it can see, a NUL byte or a stray non-UTF-8 byte passes through. Each of
those would put one family's details in another's case, so a file holding any of them is refused whole,
with every such row listed by its line, before anything is written:

* a row with more or fewer cells than the header;
* a quote that is not closed where the row ends: a record spanning several lines, unless the cell holding
  the line break is a free-text column (a note or a comment may have several lines), and a file that ends
  inside a quote;
* a NUL byte, or bytes that are not UTF-8 text (a UTF-8 byte-order mark at the start is fine);
* in the header: an empty file, a column named twice.

The file is read as it is checked, one record at a time, so a large file is never held whole in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from tracker.domain.errors import InvalidValue
from tracker.domain.fields import normalise_choice

_BOM = b"\xef\xbb\xbf"


def column_key(name: str) -> str:
    """How a column name is matched: case, spaces and hyphens do not matter."""
    return normalise_choice(name)


@dataclass(frozen=True, slots=True)
class Malformed:
    """A row whose shape is wrong: the line it starts on and why it cannot be read as one row."""

    line: int
    why: str


@dataclass
class CsvFile:
    """An open CSV file: its header, then its rows as `rows()` reads them.

    Use as a context manager (`open_csv`); `malformed` lists the rows `rows()` refused, once it has run.
    """

    path: Path
    header: list[str]
    keys: list[str]
    """The header's column names as matched (`column_key`)."""
    malformed: list[Malformed] = field(default_factory=list)
    _lines: _Lines | None = None
    _reader: Iterator[list[str]] | None = None

    def rows(self, free_text: Collection[str] = ()) -> Iterator[tuple[int, dict[str, str]]]:
        """(line, column key -> stripped text) of every well-formed row; blank lines are left out.

        Args:
            free_text: The column keys whose cells may hold line breaks (quoted, as spreadsheets write them).
        """
        lines, reader = self._lines, self._reader
        assert lines is not None, "rows() is read once, inside `with open_csv(...)`"
        assert reader is not None
        self._lines = self._reader = None
        width = len(self.header)
        while True:
            start = lines.number + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                lines.problem_between(start, lines.number)  # this record is refused for its quote already
                self.malformed.append(Malformed(start, _unclosed(start, lines.number, str(error))))
                continue
            end = lines.number
            problem = lines.problem_between(start, end)
            if problem is not None:
                self.malformed.append(Malformed(start, problem))
                continue
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, e.g. at the end of a spreadsheet export
            if len(cells) != width:
                self.malformed.append(Malformed(start, _width_problem(len(cells), width)))
                continue
            broken = next(
                (
                    k
                    for k, c in zip(self.keys, cells, strict=True)
                    if ("\n" in c or "\r" in c) and k not in free_text
                ),
                None,
            )
            if broken is not None:
                self.malformed.append(Malformed(start, _spanning(start, end, broken)))
                continue
            unnamed = next(
                (n for n, (k, c) in enumerate(zip(self.keys, cells, strict=True), 1) if not k and c.strip()),
                0,
            )
            if unnamed:
                self.malformed.append(
                    Malformed(
                        start,
                        f"cell {unnamed} holds a value but its column has no name in the header; "
                        "name the column or empty the cell",
                    )
                )
                continue
            yield start, {k: c.strip() for k, c in zip(self.keys, cells, strict=True) if k}


@contextmanager
def open_csv(path: Path) -> Iterator[CsvFile]:
    """Open `path` and read its header; `CsvFile.rows()` reads the rest while the file is open.

    Raises:
        InvalidValue: the file cannot be read, is empty, or its header is not one good line of names.
    """
    try:
        binary = path.open("rb")
    except OSError as error:
        raise InvalidValue("FILE", path, f"cannot read it ({error.strerror})") from None
    with binary:
        yield _read_header(path, _Lines(binary))


def _read_header(path: Path, lines: _Lines) -> CsvFile:
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise InvalidValue("FILE", path, f"the header (line 1) is not CSV: {error}") from None
    except OSError as error:
        raise InvalidValue("FILE", path, f"cannot read it ({error.strerror})") from None
    problem = lines.problem_between(1, lines.number)
    if problem is not None:
        raise InvalidValue("FILE", path, f"the header (line 1): {problem}")
    if not header or not any(cell.strip() for cell in header):
        raise InvalidValue("FILE", path, "the file is empty; the first line must name the columns")
    if lines.number > 1:
        raise InvalidValue("FILE", path, "the header holds a line break; put the column names on line 1")
    keys = [column_key(cell) for cell in header]
    seen: dict[str, int] = {}
    for number, key in enumerate(keys, 1):
        if key and key in seen:
            raise InvalidValue(
                "FILE",
                path,
                f"column {header[number - 1].strip()!r} is named twice in the header "
                f"(columns {seen[key]} and {number}); delete or rename one",
            )
        seen.setdefault(key, number)
    return CsvFile(path, header, keys, _lines=lines, _reader=reader)


class _Lines:
    """The file's physical lines as text, for `csv.reader`; remembers which lines were not clean text."""

    def __init__(self, binary: BinaryIO) -> None:
        self._binary = binary
        self.number = 0
        """The number of the last line handed out (1-based)."""
        self._problems: dict[int, str] = {}

    def __iter__(self) -> Iterator[str]:
        for raw in self._binary:
            self.number += 1
            if self.number == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            if b"\x00" in raw:
                self._problems[self.number] = (
                    "it holds a NUL byte (the file may be UTF-16 or damaged); save it as CSV UTF-8"
                )
                raw = raw.replace(b"\x00", b"")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                self._problems.setdefault(
                    self.number,
                    f"byte {error.start + 1} is not UTF-8 text; save the file from the spreadsheet "
                    "as CSV UTF-8",
                )
                text = raw.decode("utf-8", errors="replace")
            yield text

    def problem_between(self, first: int, last: int) -> str | None:
        """The first problem of lines `first`..`last` (and forgets them: each line is read once)."""
        found = None
        for number in range(first, last + 1):
            problem = self._problems.pop(number, None)
            if found is None and problem is not None:
                found = problem if number == first else f"line {number}: {problem}"
        return found


def _width_problem(cells: int, width: int) -> str:
    if cells > width:
        return (
            f"the row has {cells} cells but the header names {width} columns; remove the extra cells, or "
            "put a value holding a comma in double quotes"
        )
    return f"the row has {cells} cells but the header names {width} columns; add the missing cells"


def _unclosed(start: int, end: int, error: str) -> str:
    if "unexpected end of data" in error:
        return (
            f"a quote opened in this row is never closed: the file ends inside it (line {end}); "
            "close the quote or remove it"
        )
    if "new-line character" in error:
        return (
            "a line break (CR) inside a value without quotes; save the file from the spreadsheet as CSV UTF-8"
        )
    if end > start:
        return (
            f"a quote opened in this row is not closed where the row ends, so lines {start}-{end} ran "
            f"together ({error}); close the quote or remove it"
        )
    return f"a quote is misplaced ({error}); put double quotes around the whole value, or remove them"


def _spanning(start: int, end: int, column: str) -> str:
    lines = f"lines {start}-{end} are read as one row" if end > start else "the row holds a line break"
    return (
        f"{lines}: a quote opened in column {column} is not closed where the line ends; "
        "close the quote or remove it"
    )
