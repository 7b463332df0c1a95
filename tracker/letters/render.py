"""A case's letter as text, PDF or DOCX, from its Jinja2 template run in a sandbox.

A template writes plain text in a small layout of its own: `# ` starts the document's title, `## ` a
heading, a blank line ends a paragraph, and the lines of a paragraph are kept as they are (an address).
The same text makes the PDF (fpdf2) and the DOCX (python-docx), so a deployment edits one template per
letter. Templates run in Jinja2's `SandboxedEnvironment` (they are data a deployment edits, not code) with
undefined names refused, so a mistyped name fails the letter instead of printing nothing.

What a template sees is built by `letter_context`: the provider (`[provider]`), the letter, the case, its
dates and choices in words, the fields of each kind of event (its latest), a `long_date` filter, and
`person.name`, the one personal field a letter prints (only in the document for its addressee: never in a
log, an email body or an export).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tracker.domain.config import Settings
from tracker.domain.errors import PackError
from tracker.domain.rules import FieldType, RulePack
from tracker.domain.windows import appeal_deadline
from tracker.domain.workflow import CaseRecord, CaseState, Rules
from tracker.letters.catalogue import LetterSpec, templates_dirs

Format = Literal["pdf", "docx"]
FORMATS: tuple[Format, ...] = ("pdf", "docx")
_SYSTEM_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
# Typography the PDF's built-in Helvetica (Latin-1) lacks, written the nearest way it can.
_LATIN1 = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "•": "-"})


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of a letter's layout: the title, a heading or a paragraph (its lines as written)."""

    kind: Literal["title", "heading", "paragraph"]
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Letter:
    """A rendered letter: its kind, title, date and layout."""

    ref: str
    kind: str
    title: str
    dated: dt.date
    blocks: tuple[Block, ...]
    author: str

    @property
    def text(self) -> str:
        """The letter as plain text (what the PDF and DOCX show, line for line)."""
        return "\n\n".join("\n".join(block.lines) for block in self.blocks) + "\n"


def long_date(day: dt.date) -> str:
    """A date as a letter writes it: 3 December 2026."""
    return f"{day.day} {day:%B %Y}"


def letter_context(
    rules: Rules, settings: Settings, record: CaseRecord, kind: str, spec: LetterSpec, today: dt.date
) -> dict[str, Any]:
    """Everything a template may print, for one letter of one case."""
    state = record.state
    pack = rules.pack(state)
    # The fold keeps each event type's dates and its latest data, voided events left out.
    dates = {event_type: long_date(max(days)) for event_type, days in state.happened.items() if days}
    choice_fields = {name for name, field in pack.case_fields.items() if field.type is FieldType.CHOICE}
    words = {
        name: pack.label(str(value)) if name in choice_fields else _words(pack, value)
        for name, value in state.fields.items()
    }
    provider = settings.provider
    return {
        "provider": {
            "name": provider.name or "",
            # The configured service names the contract of a one-pack deployment; with several, each
            # letter names its own pack's service.
            "service": (provider.service if len(list(rules.packs)) == 1 else None) or pack.title,
            "commissioner": provider.commissioner or "",
            "contract_reference": provider.contract_reference or "",
            "contact_role": provider.contact_role or "",
        },
        "letter": {"kind": kind, "title": spec.title, "date": long_date(today)},
        "case": {
            "ref": state.ref,
            "type": pack.label(state.case_type),
            "opened_on": long_date(state.opened_on),
            "fields": words,
        },
        "person": {"name": str(state.personal.get("name") or "")},
        "on": dates,
        "event": {
            name: {k: _words(pack, v) for k, v in data.items()} for name, data in state.latest_data.items()
        },
        "chosen": {name: pack.label(value) for name, value in spec.fields.items()},
        # The tribunal appeal deadline a certificate states (None: no decision letter date recorded yet, so
        # the template gives the rule alone). A certificate not yet recorded counts from the letter's date.
        "appeal_deadline": _appeal_deadline(rules, state, spec, today),
    }


def _appeal_deadline(rules: Rules, state: CaseState, spec: LetterSpec, today: dt.date) -> str | None:
    issued = {} if state.happened.get(spec.records) else {spec.records: today}
    due = appeal_deadline(rules, state, also=issued)
    return long_date(due) if due else None


def _words(pack: RulePack, value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value in pack.labels:
        return pack.label(value)
    return str(value)


def _long_date_filter(value: object) -> str:
    """`{{ event.meeting_scheduled.meeting_date | long_date }}`: an ISO date as a letter writes it."""
    return long_date(value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)))


def render_text(
    pack_id: str, spec: LetterSpec, kind: str, context: Mapping[str, Any], own: Path | None
) -> tuple[Block, ...]:
    """Run the letter's template in the sandbox and cut its text into blocks; a bad template is refused."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    folders = [str(folder) for folder in templates_dirs(pack_id, own)]
    environment = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(folders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["long_date"] = _long_date_filter
    name = spec.template or f"{kind}.j2"
    try:
        text = environment.get_template(name).render(context)
    except jinja2.TemplateNotFound as error:
        raise PackError(f"letter {kind}: template {error.name} is in none of {', '.join(folders)}") from None
    except jinja2.TemplateSyntaxError as error:
        raise PackError(f"{error.filename}:{error.lineno}: template {name}: {error.message}") from None
    except jinja2.UndefinedError as error:
        raise PackError(f"template {name}: {error.message}; see README, Letters, for the names") from None
    except jinja2.exceptions.SecurityError as error:
        raise PackError(f"template {name}: not allowed in a template ({error})") from None
    return parse_blocks(text)


def parse_blocks(text: str) -> tuple[Block, ...]:
    """The layout of a template's text: `# title`, `## heading`, paragraphs split by blank lines."""
    blocks: list[Block] = []
    paragraph: list[str] = []

    def end_paragraph() -> None:
        if paragraph:
            blocks.append(Block("paragraph", tuple(paragraph)))
            paragraph.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            end_paragraph()
        elif line.startswith("## "):
            end_paragraph()
            blocks.append(Block("heading", (line[3:].strip(),)))
        elif line.startswith("# "):
            end_paragraph()
            blocks.append(Block("title", (line[2:].strip(),)))
        else:
            paragraph.append(line)
    end_paragraph()
    return tuple(blocks)


# ------------------------------------------------------------------ PDF and DOCX


def to_pdf(letter: Letter, font: Path | None) -> bytes:
    """The letter as an A4 PDF; a TrueType font prints every script, Helvetica only Latin-1."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_title(letter.title)
    pdf.set_author(letter.author)
    pdf.set_creator("caseclock")
    pdf.set_creation_date(dt.datetime(letter.dated.year, letter.dated.month, letter.dated.day, tzinfo=dt.UTC))
    font_file = font or (_SYSTEM_FONT if _SYSTEM_FONT.is_file() else None)
    if font_file is not None:
        bold = font_file.with_name(font_file.stem + "-Bold" + font_file.suffix)
        pdf.add_font("Letter", "", str(font_file))
        pdf.add_font("Letter", "B", str(bold if bold.is_file() else font_file))
        family = "Letter"

        def fit(text: str) -> str:
            return text
    else:
        family = "Helvetica"

        def fit(text: str) -> str:
            return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")

    pdf.add_page()
    for block in letter.blocks:
        text = fit("\n".join(block.lines))
        if block.kind == "title":
            pdf.set_font(family, "B", 16)
            pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT", align="L")
            pdf.ln(3)
        elif block.kind == "heading":
            pdf.set_font(family, "B", 12)
            pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT", align="L")
            pdf.ln(1)
        else:
            pdf.set_font(family, "", 11)
            pdf.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT", align="L")
            pdf.ln(3)
    return bytes(pdf.output())


def to_docx(letter: Letter) -> bytes:
    """The letter as a Word document: the title and headings in Word's own styles, so it can be edited."""
    import docx

    document = docx.Document()
    properties = document.core_properties
    properties.title = letter.title
    properties.author = letter.author
    properties.last_modified_by = letter.author
    moment = dt.datetime(letter.dated.year, letter.dated.month, letter.dated.day)  # noqa: DTZ001 (Word's naive)
    properties.created = properties.modified = moment
    for block in letter.blocks:
        if block.kind == "title":
            document.add_heading(block.lines[0], level=0)
        elif block.kind == "heading":
            document.add_heading(block.lines[0], level=1)
        else:
            paragraph = document.add_paragraph()
            for number, line in enumerate(block.lines):
                run = paragraph.add_run(line)
                if number < len(block.lines) - 1:
                    run.add_break()
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def document_bytes(letter: Letter, fmt: Format, font: Path | None) -> bytes:
    """The letter in the format asked for."""
    return to_pdf(letter, font) if fmt == "pdf" else to_docx(letter)
