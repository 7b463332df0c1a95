"""`z` on the case screen: pick one of the case's letters and write it as a PDF to the documents folder.

The kinds offered are `tracker.letters.letter_kinds` for the case's pack; the chosen one is written by
`tracker.letters.write_letter`, as `caseclock letter REF KIND` would, in a thread worker, to the folder the
compliance export uses (`tui.screens.compliance_export.export_folder`). A letter the case cannot have yet
is refused here, in the status line, and nothing is written. Dismissed with the `LetterFile` written, or
None. Emailing a letter (and recording that it went) stays with `caseclock send` on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from tracker.domain.errors import CaseclockError, EventRefused
from tracker.letters import LetterFile, letter_kinds, write_letter
from tracker.store import CaseRecord
from tui.context import TuiContext
from tui.refusals import humanise
from tui.screens.compliance_export import export_folder, failure_words
from tui.widgets.status_line import StatusLine

SEND_HINT = "To email a letter and record that it went, use caseclock send on the command line."


@dataclass
class LetterWritten(Message, bubble=False):
    """The letter was written."""

    letter: LetterFile


@dataclass
class LetterFailed(Message, bubble=False):
    """Nothing was written; `message` says why, in one line."""

    message: str


class LetterScreen(ModalScreen[LetterFile | None]):
    """The letters a case's pack has, by kind (as `caseclock letter` names them); Enter writes one.

    Args:
        ctx: The shared services.
        record: The case as last read.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Back to the case", id="caseclock.letter.cancel"),
    ]

    def __init__(self, ctx: TuiContext, record: CaseRecord) -> None:
        super().__init__()
        self.ctx = ctx
        self.record = record
        self.writing = False

    def compose(self) -> ComposeResult:
        """The case, where the file goes, the kinds, and a line for a refusal."""
        ref = self.record.state.ref
        with Vertical(id="dialog", classes="dialog letter"):
            yield Label(f"Write a letter of {ref}", classes="dialog-title", markup=False)
            yield Static(
                f"As PDF, to {export_folder()}.\n{SEND_HINT}",
                classes="dialog-subtitle",
                markup=False,
            )
            yield OptionList(id="letter-kinds")
            yield StatusLine(line_id="letter-status")

    def on_mount(self) -> None:
        """List the kinds (a broken letters.toml is refused inline) and start on the first."""
        kinds = self.query_one("#letter-kinds", OptionList)
        try:
            found = letter_kinds(self.ctx.rules, self.ctx.settings, self.record)
        except CaseclockError as error:
            found = []
            self.query_one(StatusLine).refuse(error.message)
        if found:
            kinds.add_options(Option(kind, id=kind) for kind in found)
            kinds.highlighted = 0
        else:
            kinds.add_option(Option("No letters: this case's rule pack has none", disabled=True))
        kinds.focus()

    @on(OptionList.OptionSelected, "#letter-kinds")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is None or self.writing:
            return
        self.writing = True
        self.query_one(StatusLine).say(f"Writing {event.option.id}…")
        self._write(event.option.id)

    @work(thread=True, exclusive=True, group="letter", exit_on_error=False)
    def _write(self, kind: str) -> None:
        ctx = self.ctx
        folder = export_folder()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            written = write_letter(
                ctx.rules,
                ctx.settings,
                self.record,
                kind,
                "pdf",
                folder,
                ctx.clock.today(),
                ctx.actor,
                ctx.clock.now(),
            )
        except EventRefused as error:  # not yet: why, in the pack's words for its steps and states
            self.post_message(LetterFailed(humanise(ctx.pack(self.record.state), error.message)))
            return
        except (OSError, CaseclockError) as error:
            words = failure_words(folder, error, what="the letter", command="caseclock letter --out")
            self.post_message(LetterFailed(words))
            return
        self.post_message(LetterWritten(written))

    def on_letter_written(self, message: LetterWritten) -> None:
        """Back to the case, which says where the file went."""
        self.dismiss(message.letter)

    def on_letter_failed(self, message: LetterFailed) -> None:
        """Say why nothing was written; another kind may still be chosen."""
        self.writing = False
        self.query_one(StatusLine).refuse(message.message)

    def action_cancel(self) -> None:
        """Back to the case without writing anything."""
        self.dismiss(None)
