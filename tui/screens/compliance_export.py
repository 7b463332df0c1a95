"""Writing the compliance screen's period to an xlsx workbook, by the rules of `caseclock export`.

The compliance screen calls `write_workbook` in a thread worker. The workbook is the one `caseclock export
--format xlsx` writes: the same report (`compliance_report`, read with its clock lines in one snapshot),
the `[disclosure]` control of the config, the `[provider]` details first, and a commissioner's copy with no
caseworker name unless the provider's copy is asked for (`X`, as `--with-caseworkers`). It goes to the
user's documents folder (platformdirs: `XDG_DOCUMENTS_DIR` or `~/Documents`), named by pack and period as
the command names it. Reads never write: the only thing written is the file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from textual.message import Message

from tracker.domain.compliance import Disclosure
from tracker.domain.dates import LONDON
from tracker.domain.errors import CaseclockError
from tracker.domain.periods import Period
from tracker.exporters import default_path, write
from tracker.reports.report import addressed, compliance_report, report_snapshot
from tui.context import TuiContext

PROVIDER_SUFFIX = "-with-caseworkers"
"""Added to the file name of the provider's copy, so it never replaces the commissioner's."""


@dataclass
class ExportWritten(Message, bubble=False):
    """The workbook of the period was written to `path`."""

    path: Path
    with_caseworkers: bool


@dataclass
class ExportFailed(Message, bubble=False):
    """The workbook could not be written; `message` says why, in one line."""

    message: str


def export_folder() -> Path:
    """Where the screen's exports go: the user's documents folder."""
    return Path(platformdirs.user_documents_dir())


def write_workbook(
    ctx: TuiContext, pack_id: str, period: Period, as_of: dt.date, *, with_caseworkers: bool = False
) -> Path:
    """Write the period's workbook to the export folder and return its path.

    Raises:
        CaseclockError: The report cannot be read (the message says why).
        OSError: The folder or the file cannot be written.
    """
    folder = export_folder()
    control = ctx.settings.disclosure
    known_on = ctx.clock.now().astimezone(LONDON).date()
    with report_snapshot(ctx.store):
        report = compliance_report(
            ctx.store,
            pack_id,
            period,
            as_of,
            disclosure=Disclosure(control.method, control.threshold),
            lazy_clocks=True,
            with_caseworkers=with_caseworkers,
        )
        report = addressed(dataclasses.replace(report, known_on=known_on), ctx.settings.provider)
        path = default_path(report, "xlsx", folder)
        if with_caseworkers:
            path = path.with_name(f"{path.stem}{PROVIDER_SUFFIX}{path.suffix}")
        folder.mkdir(parents=True, exist_ok=True)
        write(report, "xlsx", path)
    return path


def failure_words(
    folder: Path,
    error: OSError | CaseclockError,
    *,
    what: str = "the workbook",
    command: str = "caseclock export --out",
) -> str:
    """One line for a failed export (or letter): what could not be written, why, and what to do."""
    if isinstance(error, CaseclockError):
        return error.message
    reason = error.strerror or str(error)
    return (
        f"cannot write {what} to {folder} ({reason}); set XDG_DOCUMENTS_DIR to a folder you can "
        f"write to, or use {command}"
    )
