"""`caseclock import`: a file whose rows cannot be trusted is refused by line, whole, with nothing written.

Each bad file is written here byte for byte: a row with a cell too many or too few, an unbalanced quote that
would swallow the following rows, a file ending inside a quote, a column named twice, NUL bytes, bytes that
are not UTF-8. The database already holds a case; it must hold exactly that afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from tracker.store.engine import make_engine

AS_OF = "2026-10-05"
HEADER = b"reference,type,opened_on,district,name,mediation_requested\n"
GOOD = b"M-1,mediation,2026-04-01,norwich,Ava Brown,2026-04-02\n"


def counts(db_url: str) -> tuple[int, int]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            cases = connection.execute(text("SELECT count(*) FROM cases")).scalar_one()
            events = connection.execute(text("SELECT count(*) FROM events")).scalar_one()
    finally:
        engine.dispose()
    return cases, events


@pytest.fixture
def seeded(cli, db_url: str) -> tuple[int, int]:
    """One case already in the database, so that "nothing written" is more than an empty table."""
    opened = cli("--as-of", AS_OF, "open", "M-0", "--on", "2026-03-02", "--field", "name=Old Family")
    assert opened.code == 0, opened.err
    return counts(db_url)


def refused(cli, tmp_path: Path, content: bytes, *extra: str):
    path = tmp_path / "import.csv"
    path.write_bytes(content)
    result = cli("--as-of", AS_OF, "import", "cases", str(path), *extra)
    assert result.code == 2, (result.out, result.err)
    assert "Traceback" not in result.err
    return result


def bad_lines(result) -> list[str]:
    """The listed bad rows (every stderr line but the final one-line refusal), file name cut off."""
    return [line.split(": ", 1)[1] for line in result.err.strip().splitlines()[:-1]]


def test_a_row_with_one_cell_too_many_is_refused_by_line(cli, db_url, tmp_path, seeded) -> None:
    content = HEADER + GOOD + b"M-2,mediation,2026-04-01,norwich,Brown,Ava,2026-04-02\n"
    result = refused(cli, tmp_path, content)
    assert bad_lines(result) == [
        "line 3: the row has 7 cells but the header names 6 columns; remove the extra cells, or put a "
        "value holding a comma in double quotes"
    ]
    assert "nothing was written" in result.err.splitlines()[-1]
    assert counts(db_url) == seeded


def test_a_row_with_a_cell_too_few_is_refused_by_line(cli, db_url, tmp_path, seeded) -> None:
    content = HEADER + b"M-2,mediation,2026-04-01,norwich,2026-04-02\n" + GOOD
    result = refused(cli, tmp_path, content)
    assert bad_lines(result) == [
        "line 2: the row has 5 cells but the header names 6 columns; add the missing cells"
    ]
    assert counts(db_url) == seeded


def test_an_unbalanced_quote_does_not_swallow_the_next_rows(cli, db_url, tmp_path, seeded) -> None:
    # The quote before Ava is never closed on its line: the csv module would read lines 2-4 as one row and
    # put the next two families' rows in this case's name.
    content = (
        HEADER
        + b'M-1,mediation,2026-04-01,norwich,"Ava Brown,2026-04-02\n'
        + b"M-2,mediation,2026-04-01,norwich,Sam Patel,2026-04-02\n"
        + b'M-3,mediation,2026-04-01,norwich,"Kim Lee",2026-04-02\n'
        + b"M-4,mediation,2026-04-01,norwich,Jo Ng,2026-04-02\n"
    )
    result = refused(cli, tmp_path, content)
    (only,) = bad_lines(result)
    assert only.startswith(
        "line 2: a quote opened in this row is not closed where the row ends, so lines 2-4"
    )
    assert "Sam Patel" not in result.err
    assert counts(db_url) == seeded
    # --skip-bad does not apply: which rows are good cannot be told
    again = refused(cli, tmp_path, content, "--skip-bad")
    assert "--skip-bad or not" in again.err.splitlines()[-1]
    assert counts(db_url) == seeded


def test_a_quote_swallowing_lines_into_a_field_that_closes_later_is_refused(
    cli, db_url, tmp_path, seeded
) -> None:
    content = (
        HEADER
        + b'M-1,mediation,2026-04-01,norwich,"Ava Brown,2026-04-02\n'
        + b'M-2,mediation,2026-04-01,norwich,Sam Patel",2026-04-02\n'
    )
    result = refused(cli, tmp_path, content)
    assert bad_lines(result) == [
        "line 2: lines 2-3 are read as one row: a quote opened in column name is not closed where the line "
        "ends; close the quote or remove it"
    ]
    assert counts(db_url) == seeded


def test_a_file_ending_inside_a_quote_is_refused(cli, db_url, tmp_path, seeded) -> None:
    content = HEADER + GOOD + b'M-2,mediation,2026-04-01,norwich,"Sam Patel,2026-04-02\n'
    result = refused(cli, tmp_path, content)
    assert bad_lines(result) == [
        "line 3: a quote opened in this row is never closed: the file ends inside it (line 3); "
        "close the quote or remove it"
    ]
    assert counts(db_url) == seeded


@pytest.mark.parametrize(
    "header",
    [
        b"reference,type,opened_on,district,district,mediation_requested\n",
        b"reference,type,opened_on,District,name,Mediation-Requested,mediation requested\n",
    ],
)
def test_a_column_named_twice_refuses_the_file(cli, db_url, tmp_path, seeded, header: bytes) -> None:
    result = refused(cli, tmp_path, header + GOOD)
    assert result.err.count("\n") == 1
    assert "is named twice in the header" in result.err
    assert counts(db_url) == seeded


def test_two_names_for_one_column_refuse_the_file(cli, db_url, tmp_path, seeded) -> None:
    content = b"reference,ref,opened_on,source,Referral source\nM-1,M-1,2026-04-01,school,school\n"
    result = refused(cli, tmp_path, content)
    assert bad_lines(result) == [
        "line 1, column ref: 'ref': the same column as 'reference'; delete one of the two",
        "line 1, column Referral source: 'Referral source': the same column as 'source'; "
        "delete one of the two",
    ]
    assert counts(db_url) == seeded


def test_nul_bytes_are_refused_by_line(cli, db_url, tmp_path, seeded) -> None:
    content = HEADER + GOOD + b"M-2,mediation,2026-04-01,norwich,Sam\x00 Patel,2026-04-02\n"
    result = refused(cli, tmp_path, content)
    assert bad_lines(result) == [
        "line 3: it holds a NUL byte (the file may be UTF-16 or damaged); save it as CSV UTF-8"
    ]
    assert counts(db_url) == seeded


def test_bytes_that_are_not_utf8_are_refused_by_line(cli, db_url, tmp_path, seeded) -> None:
    content = HEADER + "M-2,mediation,2026-04-01,norwich,Zoë,2026-04-02\n".encode("latin-1") + GOOD
    result = refused(cli, tmp_path, content)
    assert bad_lines(result) == [
        "line 2: byte 36 is not UTF-8 text; save the file from the spreadsheet as CSV UTF-8"
    ]
    assert counts(db_url) == seeded


def test_a_utf16_file_is_refused_at_its_header(cli, db_url, tmp_path, seeded) -> None:
    result = refused(cli, tmp_path, (HEADER + GOOD).decode().encode("utf-16"))
    assert result.err.count("\n") == 1
    assert "the header (line 1)" in result.err
    assert counts(db_url) == seeded


def test_every_bad_row_is_listed_by_line_with_the_value_refusals(cli, db_url, tmp_path, seeded) -> None:
    content = (
        HEADER
        + GOOD
        + b"M-2,mediation,2026-04-01,Norwich City,Sam Patel,2026-04-02\n"
        + b"M-3,mediation,2026-04-01,norwich,Kim,Lee,2026-04-02\n"
        + b"M-4,mediation,2026-04-01,norwich,Jo\x00,2026-04-02\n"
    )
    (tmp_path / "x.csv").write_bytes(content)
    result = cli("--as-of", AS_OF, "import", "cases", str(tmp_path / "x.csv"), "--json")
    assert result.code == 2
    bad = json.loads(result.out)["bad"]
    assert [(b["line"], b["column"]) for b in bad] == [(3, "district"), (4, None), (5, None)]
    assert counts(db_url) == seeded


def test_a_byte_order_mark_and_crlf_line_ends_are_read_as_excel_writes_them(cli, db_url, tmp_path) -> None:
    content = b"\xef\xbb\xbf" + (HEADER + GOOD).replace(b"\n", b"\r\n")
    (tmp_path / "excel.csv").write_bytes(content)
    result = cli("--as-of", AS_OF, "import", "cases", str(tmp_path / "excel.csv"))
    assert result.code == 0, result.err
    assert counts(db_url) == (1, 2)


def test_a_comment_may_hold_line_breaks(cli, db_url, tmp_path) -> None:
    (tmp_path / "cases.csv").write_bytes(HEADER + GOOD)
    assert cli("--as-of", AS_OF, "import", "cases", str(tmp_path / "cases.csv")).code == 0
    content = b'reference,date,satisfied,comment\nM-1,2026-05-05,agree,"Kind.\r\nQuick, too."\n'
    (tmp_path / "s.csv").write_bytes(content)
    result = cli("--as-of", AS_OF, "import", "surveys", str(tmp_path / "s.csv"))
    assert result.code == 0, result.err
    shown = json.loads(cli("--as-of", AS_OF, "show", "M-1", "--json").out)
    survey = next(e for e in shown["events"] if e["type"] == "survey")
    assert survey["data"]["comment"] == "Kind.\r\nQuick, too."


def test_the_listing_is_capped_and_says_how_many_more(cli, db_url, tmp_path, seeded) -> None:
    rows = b"".join(b"M-%d,mediation,2026-04-01,norwich,A,B,2026-04-02\n" % n for n in range(2, 27))
    result = refused(cli, tmp_path, HEADER + rows)
    lines = result.err.strip().splitlines()
    assert len(lines) == 22
    assert lines[0].endswith(
        "line 2: the row has 7 cells but the header names 6 columns; remove the "
        "extra cells, or put a value holding a comma in double quotes"
    )
    assert lines[19].split(": ")[1] == "line 21"
    assert lines[20].endswith("and 5 more bad rows (--json lists them all)")
    assert "25 row(s) are not well-formed CSV" in lines[21]
    assert counts(db_url) == seeded


def test_a_carriage_return_inside_an_unquoted_value_is_refused(cli, db_url, tmp_path, seeded) -> None:
    content = HEADER + GOOD + b"M-2,mediation,2026-04-01,norwich,Sam\rPatel,2026-04-02\n"
    result = refused(cli, tmp_path, content)
    assert bad_lines(result) == [
        "line 3: a line break (CR) inside a value without quotes; save the file from the spreadsheet as "
        "CSV UTF-8"
    ]
    assert counts(db_url) == seeded
