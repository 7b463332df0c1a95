"""The home screen: every case, most urgent first, in views (Open, Due this week, Overdue, Closed, All, Mine).

The table holds pages of `PAGE` rows read with `Store.cases(limit, offset)`: the first page paints at once
however many cases there are, and the next page is read when the cursor nears the end. The store is polled
on a timer (LiveScreen), so another writer's change appears within two seconds; typing in the `/` filter
re-reads only the first page. Every read runs in a thread worker that posts its rows back as messages.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Header, Input, Static, Tab, Tabs
from textual.worker import Worker, WorkerState, get_current_worker

from tracker.domain.errors import CaseclockError
from tracker.store import CaseSummary, Store
from tui.context import TuiContext
from tui.memory import freeze_startup_objects
from tui.messages import CaseQuery, CasesCounted, CasesLoaded, CasesShown, StoreFailed
from tui.screens.base import LiveScreen
from tui.screens.case import open_case
from tui.screens.go_to import GoToScreen
from tui.screens.new_case import NewCaseScreen
from tui.widgets.case_table import CaseTable, detail_words
from tui.widgets.key_bar import KeyBar
from tui.widgets.row_table import RowTable
from tui.widgets.status_line import StatusLine
from tui.words import LEGEND

PAGE = 100
"""Rows read at a time; the next page is read when the cursor is within `PAGE_AHEAD` rows of the end."""
PAGE_AHEAD = 20
GO_TO_LIMIT = 50
"""References read when `:` is given part of one (one match, or an exact one, opens at once)."""
COUNT_AFTER_TYPING = 0.3
"""Seconds without a keystroke before the filter's matches are counted."""

VIEWS: dict[str, tuple[str, str]] = {
    "open": ("Open", "open"),
    "week": ("Due this week", "open"),
    "overdue": ("Overdue", "overdue"),
    "ended": ("Closed", "ended"),
    "all": ("All", "all"),
    "mine": ("Mine", "open"),
}
"""View id -> (tab label, the `Store.cases` view it reads)."""
VIEW_KEYS = {view: str(number) for number, view in enumerate(VIEWS, start=1)}
"""The key of each view, shown on its tab."""
SEARCH_FIELDS = ("la",)
"""Case fields the search matches besides the reference and the caseworker: the local authority."""
NAME_FIELDS = ("name",)
"""The service user's name: matched only where `[tui] search_names` is on (the caseworker's own machine)."""

NO_NAME = 'the Mine view needs your name: set [user] name = "Jo Smith" in the config file'


def worker_pause(worker: Worker[None], seconds: float) -> bool:
    """Wait in a thread worker for `seconds`, or until it is cancelled; True if it was cancelled."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if worker.is_cancelled:
            return True
        time.sleep(0.02)
    return worker.is_cancelled


def end_of_week(today: dt.date) -> dt.date:
    """The Sunday that ends `today`'s week (the "Due this week" view includes everything due by then)."""
    return today + dt.timedelta(days=6 - today.weekday())


class CasesScreen(LiveScreen):
    """The case list with its views, the filter and the status line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "filter",
            "Search",
            tooltip="Find cases in every view by reference, caseworker or local authority",
            id="caseclock.cases.filter",
            # A priority binding runs as the key arrives, before the keys typed after it are handed to the
            # list: "/sam" typed in one burst goes into the box instead of running "a" (alerts).
            priority=True,
        ),
        Binding(
            "colon",
            "go_to",
            "Go to case",
            tooltip="Open a case by its reference",
            id="caseclock.cases.go_to",
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear search",
            show=False,
            tooltip="Clear the search",
            id="caseclock.cases.clear",
        ),
        Binding("n", "new_case", "New case", tooltip="Open a new case", id="caseclock.cases.new"),
        Binding(
            "c",
            "app.compliance",
            "Compliance",
            tooltip="KPI compliance for a period",
            id="caseclock.cases.compliance",
        ),
        Binding(
            "a",
            "app.alerts",
            "Alerts",
            tooltip="Pending, sent and failed alerts",
            id="caseclock.cases.alerts",
        ),
        Binding(
            "r",
            "refresh",
            "Refresh",
            show=False,
            tooltip="Read the cases again now",
            id="caseclock.cases.refresh",
        ),
        Binding(
            "1",
            "view('open')",
            "Open cases",
            show=False,
            tooltip="View: open cases",
            id="caseclock.cases.view_open",
        ),
        Binding(
            "2",
            "view('week')",
            "Due this week",
            show=False,
            tooltip="View: due by Sunday",
            id="caseclock.cases.view_week",
        ),
        Binding(
            "3",
            "view('overdue')",
            "Overdue",
            show=False,
            tooltip="View: overdue clocks",
            id="caseclock.cases.view_overdue",
        ),
        Binding(
            "4",
            "view('ended')",
            "Closed",
            show=False,
            tooltip="View: closed and withdrawn",
            id="caseclock.cases.view_closed",
        ),
        Binding(
            "5",
            "view('all')",
            "All cases",
            show=False,
            tooltip="View: every case",
            id="caseclock.cases.view_all",
        ),
        Binding(
            "6",
            "view('mine')",
            "Mine",
            show=False,
            tooltip="View: my open cases",
            id="caseclock.cases.view_mine",
        ),
    ]

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__(ctx, screen_id="cases-screen")
        self.view = "open"
        self.search = ""
        self._rows: list[CaseSummary] = []
        self._shown: CaseQuery | None = None
        self._total: int | None = None
        self._elsewhere: dict[str, int] = {}
        self._refusal: str | None = None
        """A `:` that found nothing: said on the status line until another view or search is chosen."""

    def compose(self) -> ComposeResult:
        """Header, view tabs, the (hidden) filter, the table, the status line, the key bar."""
        yield Header()
        yield Tabs(
            *(Tab(f"{VIEW_KEYS[view]} {label}", id=f"view-{view}") for view, (label, _) in VIEWS.items()),
            id="views",
        )
        yield Input(placeholder=self._search_hint(), id="filter", compact=True)
        yield CaseTable(table_id="cases")
        yield Static("", id="empty", markup=False)
        yield Static("", id="case-detail", markup=False)
        yield StatusLine(line_id="status")
        yield KeyBar()

    def on_mount(self) -> None:
        """Read the first page."""
        self.query_one(CaseTable).focus()
        self.reload()

    # ------------------------------------------------------------------ reading

    def _search_fields(self) -> tuple[str, ...]:
        return SEARCH_FIELDS + (NAME_FIELDS if self.ctx.settings.tui.search_names else ())

    def _search_hint(self) -> str:
        name = ", name" if self.ctx.settings.tui.search_names else ""
        return f"Search every view: reference, caseworker, local authority{name}"

    def current_query(self) -> CaseQuery:
        """The query the screen's view and filter call for, as of today."""
        today = self.ctx.clock.today()
        return CaseQuery(
            view=self.view,
            store_view=VIEWS[self.view][1],
            search=self.search.strip() or None,
            search_fields=self._search_fields(),
            owner=self.ctx.me if self.view == "mine" else None,
            due_by=end_of_week(today) if self.view == "week" else None,
            today=today,
        )

    def reload(self, *, typing: bool = False) -> None:
        """Read the first page again (a new view or filter; `typing`: the filter is being typed)."""
        self._refusal = None
        query = self.current_query()
        if query.view == "mine" and query.owner is None:
            self._show_rows(query, [])
            self.query_one(StatusLine).refuse(NO_NAME)
            return
        self._load(query, 0, PAGE, COUNT_AFTER_TYPING if typing else 0.0)

    def poll(self) -> None:
        """Re-read the rows already shown, unless a read is still running."""
        query = self.current_query()
        if self._reading() or (query.view == "mine" and query.owner is None):
            return
        self._load(query, 0, max(PAGE, len(self._rows)), 0.0)

    def _reading(self) -> bool:
        return any(
            w.group == "cases" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for w in self.workers
            if w.node is self
        )

    @work(thread=True, exclusive=True, group="cases", exit_on_error=False)
    def _load(self, query: CaseQuery, offset: int, limit: int, count_after: float) -> None:
        worker = get_current_worker()
        store = self.ctx.store
        args = (query.today, query.store_view, query.due_by, query.search, query.owner)
        fields = query.search_fields
        try:
            rows = store.cases(*args, limit=limit, offset=offset, search_fields=fields)
            if worker.is_cancelled:
                return
            self.post_message(CasesLoaded(query, rows, offset))
            if offset:
                return  # a further page: the total is known already
            # Counting scans every matching row. It waits for a pause in typing (the next keystroke
            # cancels this worker), so the rows of each keystroke never queue behind a count.
            if count_after and worker_pause(worker, count_after):
                return
            total = store.count_cases(*args, search_fields=fields)
            elsewhere = _elsewhere(store, query, total) if query.search else {}
        except CaseclockError as error:
            self.post_message(StoreFailed(error.message))
            return
        if not worker.is_cancelled:
            self.post_message(CasesCounted(query, total, elsewhere))

    def on_cases_loaded(self, message: CasesLoaded) -> None:
        """Show a page that was read for the current view and filter (late answers are dropped)."""
        if message.query != self.current_query():
            return
        rows = message.rows if message.offset == 0 else self._rows[: message.offset] + message.rows
        self._show_rows(message.query, rows)

    def _show_rows(self, query: CaseQuery, rows: list[CaseSummary]) -> None:
        if query == self._shown and rows == self._rows:
            return  # a poll that found nothing new: leave the table (and the cursor) alone
        if query != self._shown:
            self._total, self._elsewhere = None, {}
        # Another view or search starts at its most urgent case; the same one, re-read, keeps its place.
        moved = self._shown is None or _place(query) != _place(self._shown)
        first = self._shown is None and not self._rows
        self._rows, self._shown = rows, query
        packs = {pack_id: self.ctx.pack_by_id(pack_id) for pack_id in {s.pack for s in rows}}
        table = self.query_one(CaseTable)
        table.show(rows, query.today, self.ctx.calendar, packs, cursor=0 if moved else None)
        if moved:
            table.scroll_home(animate=False)
        self._describe()
        self._say()
        self.post_message(CasesShown(len(rows)))
        if first:
            self.call_after_refresh(freeze_startup_objects)  # once the first cases are on the screen

    def on_cases_counted(self, message: CasesCounted) -> None:
        """Show the total (and, while searching, the matches in other views) once it is known."""
        if message.query == self._shown:
            self._total, self._elsewhere = message.total, message.elsewhere
            self._say()

    def on_store_failed(self, message: StoreFailed) -> None:
        """A read failed: say so where the count would be."""
        self.query_one(StatusLine).refuse(message.message)

    def _say(self) -> None:
        label = VIEWS[self.view][0]
        total = "…" if self._total is None else f"{self._total:,}"
        shown = len(self._rows)
        found = f"{shown:,} of {total}" if self._total is None or shown < self._total else f"{shown:,}"
        search = f' matching "{self.search.strip()}"' if self.search.strip() else ""
        more = "".join(f" · {words}" for words in self._elsewhere_words())
        status = self.query_one(StatusLine)
        if self._refusal is not None:
            status.refuse(self._refusal)  # until the next view or search
        elif self.view == "mine" and self.ctx.me is None:
            status.refuse(NO_NAME)
        else:
            one = (self._total if self._total is not None else shown) == 1
            status.say(f"{label}{search}: {found} {'case' if one else 'cases'}{more}   {LEGEND}")
        self.set_class(not self._rows, "-empty")
        self.query_one("#empty", Static).update(self._empty_words() if not self._rows else "")

    def _elsewhere_words(self) -> list[str]:
        """ "3 more in Closed (4)" for each view holding matches this one leaves out."""
        return [
            f"{count:,} more in {VIEWS[view][0]} ({VIEW_KEYS[view]})"
            for view, count in self._elsewhere.items()
            if count > 0
        ]

    def _empty_words(self) -> str:
        """Why the view is empty, and what to do."""
        query = self._shown or self.current_query()
        search = (query.search or "").strip()
        if search:
            fields = "reference, caseworker, local authority"
            fields += ", name" if "name" in query.search_fields else ""
            elsewhere = self._elsewhere_words()
            hint = (
                f"Found in other views: {'; '.join(elsewhere)}: press the number to see them."
                if elsewhere
                else "Nothing in any other view either."
            )
            return (
                f'No case in {VIEWS[self.view][0]} matches "{search}" ({fields}). {hint}\n'
                "escape clears the search."
            )
        sunday = end_of_week(query.today).strftime("%A %d %B").replace(" 0", " ")
        return {
            "open": "No open cases. Press n to open one, or 4 for the closed ones.",
            "week": f"Nothing is due by {sunday}, and nothing is overdue. Press 1 for every open case.",
            "overdue": "Nothing is overdue. Press 2 for what is due this week.",
            "ended": "No case has been closed or withdrawn yet. Press 1 for the open cases.",
            "all": "No cases yet. Press n to open the first one.",
            "mine": (
                f"No open case has {self.ctx.me} as its caseworker. Press 1 for every open case."
                if self.ctx.me
                else NO_NAME[0].upper() + NO_NAME[1:] + "."
            ),
        }[self.view]

    def _describe(self) -> None:
        """The row under the cursor in full, on the line under the table."""
        current = self.query_one(CaseTable).current
        self.query_one("#case-detail", Static).update(detail_words(current) if current else "")

    # ------------------------------------------------------------------ paging and opening

    @on(RowTable.Highlighted, "#cases")
    def _near_the_end(self, event: RowTable.Highlighted) -> None:
        event.stop()
        self._describe()
        shown = len(self._rows)
        if self._total is None or shown >= self._total or event.row < shown - PAGE_AHEAD:
            return
        if not self._reading():
            self._load(self.current_query(), shown, PAGE, 0.0)

    @on(RowTable.Selected, "#cases")
    def _row_selected(self, event: RowTable.Selected) -> None:
        event.stop()
        self.action_open_case()

    def action_open_case(self) -> None:
        """Open the case under the cursor."""
        ref = self.query_one(CaseTable).current_ref
        if ref is not None:
            open_case(self.app, self.ctx, ref)

    # ------------------------------------------------------------------ views and the filter

    @on(Tabs.TabActivated, "#views")
    def _view_chosen(self, event: Tabs.TabActivated) -> None:
        event.stop()
        view = (event.tab.id or "view-open").removeprefix("view-")
        if view != self.view:
            self.view = view
            self.reload()

    def action_view(self, view: str) -> None:
        """Switch to a view by its id."""
        self.query_one(Tabs).active = f"view-{view}"

    def action_filter(self) -> None:
        """Show the filter and type into it."""
        box = self.query_one("#filter", Input)
        if box.has_focus:
            box.insert_text_at_cursor("/")  # typed in the search itself
            return
        self.add_class("-filtering")
        self.set_focus(box)  # at once, for the keys already on their way

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.search = event.value
        self.reload(typing=True)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(CaseTable).focus()

    def action_clear_filter(self) -> None:
        """Empty and hide the filter."""
        box = self.query_one("#filter", Input)
        if box.value:
            box.value = ""
        self.remove_class("-filtering")
        self.query_one(CaseTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out "open case" with nothing to open ("Mine" stays: it explains how to set a name)."""
        if action == "open_case":
            return bool(self._rows) or None
        if action == "clear_filter":
            return bool(self.search) or self.has_class("-filtering")
        return True

    # ------------------------------------------------------------------ going to a case by reference

    def action_go_to(self) -> None:
        """Ask for a reference and open that case (several matches: list them in All)."""

        def chosen(text: str | None) -> None:
            if text:
                self._go_to(text, self.ctx.clock.today())

        self.app.push_screen(GoToScreen(), chosen)

    @work(thread=True, exclusive=True, group="go-to", exit_on_error=False)
    def _go_to(self, text: str, today: dt.date) -> None:
        try:
            found = self.ctx.store.cases(today, "all", search=text, limit=GO_TO_LIMIT)
        except CaseclockError as error:
            self.post_message(StoreFailed(error.message))
            return
        self.app.call_from_thread(self._went_to, text, [summary.ref for summary in found])

    def _went_to(self, text: str, refs: list[str]) -> None:
        exact = [ref for ref in refs if ref.casefold() == text.casefold()]
        if exact or len(refs) == 1:
            open_case(self.app, self.ctx, (exact or refs)[0])
            return
        if not refs:
            self._refusal = f'no case has a reference like "{text}"'
            self._say()
            return
        # Several references contain it: list them all, in every view, to pick one.
        self.query_one("#filter", Input).value = text
        self.add_class("-filtering")
        self.action_view("all")

    # ------------------------------------------------------------------ new case

    def action_new_case(self) -> None:
        """Open the new-case form; a case opened there is shown at once."""

        def opened(ref: str | None) -> None:
            if ref is not None:
                open_case(self.app, self.ctx, ref)

        self.app.push_screen(NewCaseScreen(self.ctx), opened)

    def action_refresh(self) -> None:
        """Read the cases again now."""
        self._shown = None
        self.poll()


def _place(query: CaseQuery) -> tuple[object, ...]:
    """What makes a list another list (the view, the search, the owner), rather than the same one re-read."""
    return (query.view, query.search, query.owner, query.due_by)


def _elsewhere(store: Store, query: CaseQuery, total: int) -> dict[str, int]:
    """The matches of a search in the views that `query`'s view leaves out: the open or the closed cases."""

    def count(view: str) -> int:
        return store.count_cases(query.today, view, None, query.search, None, query.search_fields)

    if query.view == "all":
        return {}
    if query.view == "ended":
        return {"open": count("open")}
    more = {} if query.view == "open" else {"open": max(count("open") - total, 0)}
    return {**more, "ended": count("ended")}
