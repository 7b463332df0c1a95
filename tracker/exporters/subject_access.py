"""A subject access response as two files: the JSON document and a printable HTML page of it.

The JSON (`tracker.reports.subject_access.subject_access_json`) is the complete record, for a machine or a
later reader; the page is the same content in words a parent can read, printed on A4 in any browser: headed
with the reference and the as-of date, numbered "Page n of m" (CSS page margin boxes, as the compliance
report's page, `tracker.exporters.html`). HTML rather than PDF: names are printed in whatever script they
were typed in with no font to embed (fpdf2's built-in fonts are Latin-1 only), a screen reader can read it,
and it opens on any device. Every value is escaped.

Both files hold personal data, so they are created readable by their owner only (0600), each written to a
temporary file beside it and renamed into place: a refusal or a failure leaves neither half-written. Called
by `caseclock subject-access`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from tracker.domain.errors import InvalidValue
from tracker.domain.rules import FieldSpec, FieldType, RulePack
from tracker.store.private_files import private_temporary

_STYLE = """
body { font-family: Arial, Helvetica, sans-serif; font-size: 10pt; color: #111; margin: 1.5em; }
h1 { font-size: 16pt; margin-bottom: 0.2em; } h2 { font-size: 12pt; margin-top: 1.4em; }
p.lead { max-width: 44em; }
table { border-collapse: collapse; margin: 0.4em 0 1em; width: 100%; }
thead { display: table-header-group; }
th, td { border: 1px solid #999; padding: 2px 6px; vertical-align: top; text-align: left;
         overflow-wrap: break-word; }
th { background: #d9e1f2; } td.d { white-space: nowrap; }
tr { page-break-inside: avoid; } tr.void td { color: #666; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0 1em; }
dt { font-weight: bold; } dd { margin: 0; overflow-wrap: break-word; }
@media print { body { margin: 0; } h2 { break-after: avoid; } }
"""


@dataclass(frozen=True, slots=True)
class SubjectAccessFiles:
    """The two files written."""

    json: Path
    html: Path


def output_paths(out: Path | None, ref: str) -> SubjectAccessFiles:
    """Where the files go: `out` (a file, or a folder for the default name), and the page beside it.

    The default name is `<REF>-sar.json` (a `/` in the reference as `-`); the page has the same stem and
    `.html`. Raises InvalidValue for a folder that does not exist or a name ending in `.html`.
    """
    target = (out if out is not None else Path.cwd()).expanduser()
    if target.is_dir():
        target = target / f"{ref.replace('/', '-')}-sar.json"
    elif not target.parent.is_dir():
        raise InvalidValue("--out", str(target), f"create the folder {target.parent} first")
    page = target.with_suffix(".html")
    if page == target:
        raise InvalidValue(
            "--out", str(target), "name the JSON file, e.g. M-0042-sar.json; the page goes beside it"
        )
    return SubjectAccessFiles(target, page)


def write_subject_access(
    document: Mapping[str, Any], pack: RulePack, files: SubjectAccessFiles, *, force: bool
) -> None:
    """Write the JSON and the page (both 0600); an existing file is refused unless `force`."""
    for path in (files.json, files.html):
        if path.is_dir():
            raise InvalidValue("--out", str(path), "that is a folder; name a file, e.g. M-0042-sar.json")
        if path.exists() and not force:
            raise InvalidValue(
                "--out", str(path), "choose a file that does not exist, or add --force to replace it"
            )
    contents = [
        (files.json, json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"),
        (files.html, render_page(document, pack).encode("utf-8")),
    ]
    written: list[tuple[Path, Path]] = []
    try:
        for path, data in contents:
            written.append((private_temporary(path, data), path))
        for temporary, path in written:
            os.replace(temporary, path)
    finally:
        for temporary, _path in written:
            temporary.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- the page


def render_page(document: Mapping[str, Any], pack: RulePack) -> str:
    """The printable page: every section of the JSON in words, every value escaped."""
    ref = str(document["ref"])
    request = document["subject_access"]
    title = f"Subject access: case {ref}"
    sections = [
        f"<h1>{escape(title)}</h1>"
        '<p class="lead">Everything this service holds about the person on this case: the case details, '
        "every step recorded (with who recorded it and when, and any entry later marked void), the "
        "deadlines as of the date below, the letters emailed and the alerts recorded.</p>"
        + _pairs(
            [
                ("Reference", ref),
                ("Service", f"{pack.title} ({document['pack']}, version {document['pack_version']})"),
                ("Case type", pack.case_types[t].title if (t := document["type"]) in pack.case_types else t),
                ("State", f"{pack.label(document['state'])} ({document['state']})"),
                ("Opened", document["opened_on"]),
                ("Closed", document["closed_on"] or "not closed"),
                ("Deadlines as of", request["as_of"]),
                ("Prepared", f"{_when(request['generated_at'])} by {request['generated_by']}"),
            ]
        ),
        "<h2>Personal details</h2>" + _fields(pack, document.get("personal") or {}, pack.case_fields),
        "<h2>Case details</h2>" + _fields(pack, document["fields"], pack.case_fields),
        "<h2>Steps recorded</h2>" + _events(pack, document["events"]),
        f"<h2>Deadlines (as of {escape(request['as_of'])})</h2>" + _clocks(document["clocks"]),
        "<h2>The appeal window</h2>" + _windows(pack, document["windows"]),
        "<h2>Letters emailed</h2>" + _letters(pack, document["documents"]),
        "<h2>Alerts recorded</h2>" + _alerts(document["alerts"]),
    ]
    body = "".join(f"<section>{section}</section>\n" for section in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}{_page_css(title, request['as_of'])}</style>"
        f"</head><body>\n{body}</body></html>\n"
    )


def _page_css(title: str, as_of: str) -> str:
    """A4 pages headed with the title and the as-of date, footed "Personal data" and "Page n of m"."""
    box = "font: 8pt Arial, Helvetica, sans-serif; color: #333;"
    return (
        "@page { size: A4 portrait; margin: 18mm 12mm 15mm;"
        f" @top-left {{ content: {_css_string(title)}; {box} }}"
        f" @top-right {{ content: {_css_string(f'As of {as_of}')}; {box} }}"
        f' @bottom-left {{ content: "Personal data: confidential"; {box} }}'
        f' @bottom-right {{ content: "Page " counter(page) " of " counter(pages); {box} }} }}'
    )


def _css_string(text: str) -> str:
    """`text` as a CSS string: quotes, backslashes and "<" escaped (it sits in a <style>)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace("\n", "\\a ")
    return f'"{escaped}"'


def _pairs(pairs: Sequence[tuple[str, object]]) -> str:
    items = "".join(f"<dt>{escape(key)}</dt><dd>{escape(_plain(value))}</dd>" for key, value in pairs)
    return f"<dl>{items}</dl>"


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    dates: Sequence[int] = (),
    void: Sequence[bool] = (),
) -> str:
    """A table; the columns numbered in `dates` never wrap (a date broken at its hyphens misreads)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    lines = []
    for index, row in enumerate(rows):
        css = ' class="void"' if index < len(void) and void[index] else ""
        cells = "".join(
            f"<td{' class=d' if column in dates else ''}>{escape(_plain(value))}</td>"
            for column, value in enumerate(row)
        )
        lines.append(f"<tr{css}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def _plain(value: object) -> str:
    if value is None:
        return ""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def _when(value: str | None) -> str:
    """An ISO time as `2026-03-24 09:30 UTC` (the JSON keeps it exact)."""
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value).astimezone(dt.UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _value(pack: RulePack, spec: FieldSpec | None, value: object) -> str:
    """A field's value in words: a choice by its label (with the stored value), anything else as it is."""
    if spec is not None and spec.type is FieldType.CHOICE and isinstance(value, str) and value:
        label = pack.label(value)
        return label if label == value else f"{label} ({value})"
    return _plain(value)


def _fields(pack: RulePack, values: Mapping[str, object], specs: Mapping[str, FieldSpec]) -> str:
    if not values:
        return "<p>None recorded.</p>"
    return _pairs(
        [
            (specs[name].label(name) if name in specs else name, _value(pack, specs.get(name), value))
            for name, value in values.items()
        ]
    )


def _events(pack: RulePack, events: Sequence[Mapping[str, Any]]) -> str:
    rows, void = [], []
    for event in events:
        specs = pack.event_fields(event["type"]) if event["type"] in pack.events else {}
        details = "; ".join(
            f"{specs[name].label(name) if name in specs else name}: {_value(pack, specs.get(name), value)}"
            for name, value in event["data"].items()
        )
        status = f"void: {event['void_reason']}" if event["voided"] else ""
        rows.append(
            [
                event["seq"],
                event["on"],
                pack.label(event["type"]),
                details,
                _when(event["recorded_at"]),
                event["actor"],
                status,
            ]
        )
        void.append(bool(event["voided"]))
    return _table(
        ["No.", "Date", "Step", "Details", "Recorded at", "Recorded by", "Void"], rows, dates=(1,), void=void
    )


def _clocks(clocks: Sequence[Mapping[str, Any]]) -> str:
    if not clocks:
        return "<p>None: no step on this case has started a deadline.</p>"
    rows = []
    for clock in clocks:
        exception = clock["exception"]
        excepted = ""
        if exception:
            excepted = "; ".join(
                part
                for part in (
                    exception["reason"],
                    f"until {exception['until']}" if exception["until"] else "",
                    exception["note"] or "",
                )
                if part
            )
        ended = clock["stopped_on"] or (
            f"{clock['ended_by']} {clock['ended_on']}" if clock["ended_on"] else ""
        )
        rows.append(
            [
                clock["kpi"],
                clock["title"],
                clock["starts_on"],
                clock["due_on"],
                ended,
                clock["status"],
                excepted,
            ]
        )
    return _table(
        ["KPI", "Deadline", "Started", "Due", "Done or ended", "Status", "Exception"], rows, dates=(2, 3)
    )


def _windows(pack: RulePack, windows: Sequence[Mapping[str, Any]]) -> str:
    if not windows:
        return "<p>None: no date of the local authority's decision letter is recorded on this case.</p>"
    rows = [
        [
            window["title"],
            window["due_on"] or "needs " + ", ".join(_name(pack, name) for name in window["waiting_for"]),
            window["status"],
            window["warning"],
        ]
        for window in windows
    ]
    note = "<p>Information for the parent or young person; never a measure of the service.</p>"
    return note + _table(["Window", "Due", "Status", "Note"], rows, dates=(1,))


def _name(pack: RulePack, name: str) -> str:
    """A case field's label, or an event's title: what a window waits for."""
    spec = pack.case_fields.get(name)
    return spec.label(name) if spec is not None else pack.label(name)


def _letters(pack: RulePack, documents: Mapping[str, Any]) -> str:
    sent = documents["letters_sent"]
    recorded = documents["letters_recorded"]
    if not sent and not recorded:
        return "<p>None.</p>"
    parts = []
    if sent:
        parts.append(
            _table(
                ["Letter", "Status", "Begun", "Sent", "Step No.", "Message-ID"],
                [
                    [
                        x["kind"],
                        x["status"],
                        _when(x["created_at"]),
                        _when(x["sent_at"]),
                        x["event_seq"],
                        x["message_id"],
                    ]
                    for x in sent
                ],
            )
        )
    if recorded:
        parts.append("<p>Steps recorded with a letter's Message-ID:</p>")
        parts.append(
            _table(
                ["Step No.", "Date", "Step", "Message-ID", "Void"],
                [
                    [x["seq"], x["on"], pack.label(x["type"]), x["message_id"], "void" if x["voided"] else ""]
                    for x in recorded
                ],
            )
        )
    return "".join(parts)


def _alerts(alerts: Sequence[Mapping[str, Any]]) -> str:
    if not alerts:
        return "<p>None.</p>"
    note = (
        "<p>Alerts go to the service's own staff and systems and name the case by its reference only: "
        "no name, contact or note.</p>"
    )
    rows = [
        [
            _when(alert["created_at"]),
            alert["level"],
            alert["clock"],
            alert["due_on"],
            alert["channel"],
            alert["recipient"],
            alert["status"],
            _when(alert["sent_at"]),
        ]
        for alert in alerts
    ]
    return note + _table(
        ["Recorded", "Level", "Deadline", "Due", "Channel", "To", "Status", "Sent"], rows, dates=(3,)
    )
