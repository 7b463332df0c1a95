"""The new-case form: a suggested reference, the case type, the date and the pack's case fields.

The reference is the prefix (`[cases] reference_prefix`, else the pack's `reference_prefix`) and the number
after the highest in use (`Store.highest_number`: M-00401 when M-00400 exists), suggested by a worker; the
caseworker may type another. Field defaults come from the configuration (`[cases.defaults]`), and the
pack's caseworker field (`owner_field`) defaults to the user (`[user] name`). The case is opened with
`Store.open_case` in a worker; a refusal (the reference is taken, a value is wrong) is shown beside the field
it concerns and nothing is written. Dismissed with the reference.
"""

from __future__ import annotations

import datetime as dt

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, Select, Static

from tracker.domain.dates import parse_date
from tracker.domain.errors import CaseclockError, InvalidValue, UnknownCase
from tracker.domain.refs import REFERENCE_HELP, is_reference, shown
from tracker.domain.rules import FieldSpec, FieldType, RulePack
from tui.context import TuiContext
from tui.messages import EventWritten, ReferenceSuggested, StoreFailed
from tui.screens.event_form import ON, ON_SPEC, FormScreen
from tui.widgets.field_input import FieldInput, build_field_inputs

_DIGITS = 5
_MAX_PROBES = 1000
REFERENCE = "reference"
_REFERENCE_SPEC = FieldSpec(type=FieldType.STRING, title="Reference", help="e.g. M-00042")


class NewCaseScreen(FormScreen[str]):
    """Open a new case.

    Args:
        ctx: The shared services.
    """

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__(ctx)
        types = ctx.rules.packs.case_types
        default = ctx.settings.cases.default_type
        self.case_type = default if default in types else ctx.rules.packs.default_case_type
        self.pack = ctx.pack_for_type(self.case_type)
        self._suggested = ""

    def compose(self) -> ComposeResult:
        """Reference, type, date, then the case fields of the type's pack."""
        today = self.ctx.clock.today()
        packs = self.ctx.rules.packs
        types = [
            (packs.in_force(packs.pack_for_case_type(t) or "", today).label(t), t) for t in packs.case_types
        ]
        with Vertical(id="dialog", classes="dialog form"):
            yield Label("Open a new case", classes="dialog-title")
            yield Static("* required", classes="dialog-subtitle")
            with VerticalScroll(id="form-fields"):
                yield FieldInput(REFERENCE, _REFERENCE_SPEC, "Reference", required=True, input_id="reference")
                with Horizontal(classes="field"):
                    yield Label("Case type *", classes="field-label")
                    yield Select(types, value=self.case_type, allow_blank=False, compact=True, id="case-type")
                yield FieldInput(ON, ON_SPEC, "Opened on", value=today.isoformat(), required=True)
                yield from self._field_rows()
            yield from self.buttons(save="Open case")
        yield from self.compose_footer()

    def _field_rows(self) -> list[FieldInput]:
        values: dict[str, object] = dict(self.ctx.rules.field_defaults)
        owner, me = self.pack.owner_field, self.ctx.me
        if owner is not None and me and values.get(owner) is None:
            values[owner] = me  # the caseworker opening the case, unless configured otherwise
        return build_field_inputs(
            self.pack,
            self.pack.case_fields,
            values=values,
            today=self.ctx.clock.today(),
        )

    def on_mount(self) -> None:
        """Suggest a reference, and start in the first case field."""
        self._suggest(self._prefix())
        rows = [row for row in self.query(FieldInput) if row.field_name not in (ON, REFERENCE)]
        if rows:
            rows[0].control.focus()

    def _prefix(self) -> str:
        return self.ctx.settings.cases.reference_prefix or self.pack.reference_prefix

    @work(thread=True, exclusive=True, group="reference", exit_on_error=False)
    def _suggest(self, prefix: str) -> None:
        store = self.ctx.store
        try:
            number = store.highest_number(prefix) + 1
            for _ in range(_MAX_PROBES):  # a reference typed with other padding (M-0401) may hold it
                ref = f"{prefix}{number:0{_DIGITS}d}"
                try:
                    store.case(ref)
                except UnknownCase:
                    self.post_message(ReferenceSuggested(ref))
                    return
                number += 1
        except CaseclockError as error:
            self.post_message(StoreFailed(error.message))

    def refusal_pack(self) -> RulePack:
        """Refusals use the words of the case type's pack."""
        return self.pack

    def on_reference_suggested(self, message: ReferenceSuggested) -> None:
        """Fill in the suggestion, unless the caseworker has typed a reference of their own."""
        box = self.query_one("#reference", Input)
        if not box.value or box.value == self._suggested:
            box.value = message.ref
            self.remember_typed()  # a suggestion is not something typed
        self._suggested = message.ref

    @on(Select.Changed, "#case-type")
    async def _type_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.NULL or event.value == self.case_type:
            return
        self.case_type = str(event.value)
        pack = self.ctx.pack_for_type(self.case_type)
        if pack.id != self.pack.id:  # another service: its own fields and prefix
            self.pack = pack
            for row in [row for row in self.query(FieldInput) if row.field_name not in (ON, REFERENCE)]:
                await row.remove()
            await self.query_one("#form-fields").mount_all(self._field_rows())
            self._suggest(self._prefix())

    def action_save(self) -> None:
        """Check the reference and date here, then open the case in a worker."""
        if self.saving:
            return
        rows = {row.field_name: row for row in self.query(FieldInput)}
        ref = self.query_one("#reference", Input).value.strip()
        today = self.ctx.clock.today()
        try:
            if not is_reference(ref):  # as `caseclock open REF` accepts, so every case can be named there too
                raise InvalidValue(REFERENCE, shown(ref), REFERENCE_HELP)
            opened_on = parse_date(rows[ON].raw or "", today, ON)
        except CaseclockError as error:
            self.post_message(self.Refused(error))
            return
        fields = {
            name: row.raw for name, row in rows.items() if name not in (ON, REFERENCE) and row.raw is not None
        }
        self.saving = True
        self._write(ref, opened_on, fields)

    @work(thread=True, exclusive=True, group="write", exit_on_error=False)
    def _write(self, ref: str, opened_on: dt.date, fields: dict[str, object]) -> None:
        ctx = self.ctx
        try:
            ctx.store.open_case(
                ref, self.case_type, opened_on, fields, ctx.actor, ctx.clock.now(), ctx.clock.today()
            )
        except CaseclockError as error:
            self.fail(error)
            return
        self.post_message(EventWritten(ref, 1))

    def written(self, message: EventWritten) -> str:
        """The new case's reference."""
        return message.ref
