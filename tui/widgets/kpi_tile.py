"""One KPI of the compliance screen: its result against target, a red/amber/green marker, and its counts.

Shows a `tracker.domain.compliance` figure as it is (never recounted). The marker is a word as well as a
colour; the `rag` reactive's watcher sets the `-green`/`-amber`/`-red`/`-none` class that app.tcss colours. A
tile can take focus: the compliance screen charts the focused KPI month by month.
"""

from __future__ import annotations

from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from tracker.domain.compliance import ClockKpi, Rag, SurveyResult

RAG_WORDS = {Rag.GREEN: "GREEN", Rag.AMBER: "AMBER", Rag.RED: "RED"}


def percent_words(percent: float | None, target: float | None) -> str:
    """ "96.8% (target 100%)", or "no data"."""
    if percent is None:
        return "no data"
    aim = f" (target {target:g}%)" if target is not None else ""
    return f"{percent:.1f}%{aim}"


class KpiTile(Static, can_focus=True):
    """A KPI's tile. `key` is the KPI's key in the report (its trend is looked up by it)."""

    DEFAULT_CSS = """
    KpiTile { height: 5; border: round $primary 50%; padding: 0 0 0 1; border-subtitle-color: $text-muted; }
    KpiTile:focus { border: round $accent; }
    KpiTile.-green { border-title-color: $text-success; }
    KpiTile.-amber { border-title-color: $text-warning; }
    KpiTile.-red { border-title-color: $text-error; }
    """

    rag: reactive[str] = reactive("none")
    """`green`, `amber`, `red`, or `none` (no data or no target)."""

    class Chosen(Message):
        """The tile took focus: chart this KPI."""

        def __init__(self, tile: KpiTile) -> None:
            super().__init__()
            self.tile = tile

        @property
        def control(self) -> KpiTile:
            """The tile."""
            return self.tile

    def __init__(self, figure: ClockKpi | SurveyResult) -> None:
        super().__init__(markup=False, classes="kpi-tile")
        self.key = figure.key
        self.figure = figure

    def on_mount(self) -> None:
        """Fill in the figure."""
        self.show(self.figure)

    def show(self, figure: ClockKpi | SurveyResult) -> None:
        """Show a (new) figure for this KPI."""
        self.figure = figure
        self.border_title = f"{figure.kpi} {figure.title}"
        self.border_subtitle = f"target {figure.target:g}%" if figure.target is not None else "no target"
        if isinstance(figure, SurveyResult) and figure.group_title:
            # one group's measure ("Outcome: Adoptive parent"): named by its group, a tile being narrow
            self.border_title = figure.group_title
        marker = RAG_WORDS.get(figure.rag, "") if figure.rag is not None else ""
        head = f"{marker} {percent_words(figure.percent, None)}".strip()
        if isinstance(figure, SurveyResult) and figure.suppressed:
            head = "withheld: too few"
        if isinstance(figure, ClockKpi):
            counts = (
                f"met {figure.met} breached {figure.breached}\n"
                f"excepted {figure.excepted} running {figure.running}"
            )
        else:
            counts = f"responses {figure.responses}\nagree {figure.agree}"
        self.update(f"{head}\n{counts}")
        self.rag = figure.rag.value if figure.rag is not None else "none"

    def watch_rag(self, old: str, new: str) -> None:
        """Swap the RAG class (coloured in CSS)."""
        self.remove_class(f"-{old}")
        self.add_class(f"-{new}")

    def on_focus(self) -> None:
        """Ask the screen to chart this KPI."""
        self.post_message(self.Chosen(self))
