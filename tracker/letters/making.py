"""Make one letter of one case: check the case can have it, render it, write it to a file (mode 0600).

`write_letter` is what `caseclock letter` and the TUI's case screen call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from tracker.domain.config import Settings
from tracker.domain.errors import InvalidValue
from tracker.domain.workflow import CaseRecord, Rules
from tracker.letters.catalogue import LetterSpec, check_can_write, find_kind, letter_specs
from tracker.letters.render import (
    FORMATS,
    Format,
    Letter,
    document_bytes,
    letter_context,
    render_text,
)
from tracker.store.private_files import write_private


@dataclass(frozen=True, slots=True)
class LetterFile:
    """A letter written to a file."""

    ref: str
    kind: str
    path: Path
    format: Format


def letter_kinds(rules: Rules, settings: Settings, record: CaseRecord) -> list[str]:
    """The letter kinds of the case's pack, in the order letters.toml lists them."""
    return list(letter_specs(rules, record.state.pack_id, settings.letters.templates_dir))


def make_letter(
    rules: Rules,
    settings: Settings,
    record: CaseRecord,
    kind: str,
    today: dt.date,
    actor: str,
    now: dt.datetime,
) -> tuple[Letter, LetterSpec]:
    """Render letter `kind` of a case, dated `today`; refused when the case cannot have it yet."""
    own = settings.letters.templates_dir
    specs = letter_specs(rules, record.state.pack_id, own)
    spec = find_kind(specs, kind, record)
    check_can_write(rules, record, spec, kind, actor, now, today)
    context = letter_context(rules, settings, record, kind, spec, today)
    blocks = render_text(record.state.pack_id, spec, kind, context, own)
    author = settings.provider.name or "caseclock"
    return Letter(record.state.ref, kind, spec.title, today, blocks, author), spec


def default_name(ref: str, kind: str, fmt: Format) -> str:
    """`M-0042-certificate_after_mediation.pdf`: the reference (a `/` as `-`) and the kind."""
    return f"{ref.replace('/', '-')}-{kind}.{fmt}"


def check_format(fmt: str) -> Format:
    """`pdf` or `docx`; anything else is refused."""
    for known in FORMATS:
        if fmt == known:
            return known
    raise InvalidValue("--format", fmt, "use pdf or docx")


def write_letter(
    rules: Rules,
    settings: Settings,
    record: CaseRecord,
    kind: str,
    fmt: str,
    out: Path | None,
    today: dt.date,
    actor: str,
    now: dt.datetime,
) -> LetterFile:
    """Render a case's letter and write it (mode 0600) to `out`, or to its default name in the folder.

    Args:
        rules: The loaded rules.
        settings: The configuration (`[provider]`, `[letters]`).
        record: The case (`Store.case(ref)`).
        kind: A letter kind of the case's pack (`certificate_after_mediation`).
        fmt: `pdf` or `docx`.
        out: A file, or a folder for the default name (None: the current folder).
        today: The letter's date.
        actor: Who writes it (a refusal's check only; nothing is recorded).
        now: The wall-clock time.

    Raises:
        InvalidValue: An unknown kind (with the nearest one) or format.
        EventRefused: The case cannot have the letter yet (the reason named).
        PackError: The template is missing or broken.
    """
    checked = check_format(fmt)
    letter, _spec = make_letter(rules, settings, record, kind, today, actor, now)
    target = out if out is not None else Path.cwd()
    if target.is_dir():
        target = target / default_name(record.state.ref, kind, checked)
    elif not target.parent.is_dir():
        raise InvalidValue("--out", str(target), "name a file in a folder that exists")
    write_private(target, document_bytes(letter, checked, settings.letters.font))
    return LetterFile(record.state.ref, kind, target, checked)
