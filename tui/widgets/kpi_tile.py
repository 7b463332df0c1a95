"""One KPI of the compliance screen: its result against target, a red/amber/green marker, and its counts.

Shows a `tracker.domain.compliance` figure as it is (never recounted): the percentage and every count behind
it, met, breached, excepted, running and cancelled (a survey: its responses and agreements). The marker is
a word as well as a colour; the `rag` reactive's watcher sets the `-green`/`-amber`/`-red`/`-none` class
that app.tcss colours. A tile can take focus: the compliance screen charts the focused KPI month by month
and explains its RAG thresholds (`rag_words`).
"""

from __future__ import annotations

from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from tracker.domain.compliance import AMBER_BAND, ClockKpi, Rag, SurveyResult

RAG_WORDS = {Rag.GREEN: "GREEN", Rag.AMBER: "AMBER", Rag.RED: "RED"}


def percent_words(percent: float | None, target: float | None) -> str:
    """ "96.8% (target 100%)", or "no data"."""
    if percent is None:
        return "no data"
    aim = f" (target {target:g}%)" if target is not None else ""
    return f"{percent:.1f}%{aim}"


def rag_words(figure: ClockKpi | SurveyResult) -> str:
    """What GREEN, AMBER and RED mean for this KPI: its target (the rule pack's) and the amber band."""
    if figure.target is None:
        return "Target not set: not rated"
    target = figure.target
    floor = max(target - AMBER_BAND, 0.0)
    return (
        f"Target {target:g}%: GREEN {target:g}% or more · AMBER {floor:g}% to under {target:g}% · "
        f"RED under {floor:g}%"
    )


class KpiTile(Static, can_focus=True):
    """A KPI's tile. `key` is the KPI's key in the report (its trend is looked up by it)."""

    DEFAULT_CSS = """
    KpiTile { height: 8; border: round $primary 50%; padding: 0 0 0 1; border-subtitle-color: $text-muted; }
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
        """Show a (new) figure for this KPI: the result, then each count on a line of its own."""
        self.figure = figure
        self.border_title = f"{figure.kpi} {figure.title}"
        # a narrow tile cuts its title: the whole one is its tooltip, and the chart's title when focused
        self.tooltip = self.border_title
        self._subtitle()
        if isinstance(figure, SurveyResult) and figure.group_title:
            # one group's measure ("Outcome: Adoptive parent"): named by its group, a tile being narrow
            self.border_title = figure.group_title
        marker = RAG_WORDS.get(figure.rag, "") if figure.rag is not None else ""
        head = f"{marker} {percent_words(figure.percent, None)}".strip()
        if isinstance(figure, SurveyResult) and figure.suppressed:
            head = "withheld: too few"
        if isinstance(figure, ClockKpi):
            counts = [
                f"met {figure.met}",
                f"breached {figure.breached}",
                f"excepted {figure.excepted}",
                f"running {figure.running}",
                f"cancelled {figure.cancelled}",
            ]
        else:
            noun = "response" if figure.responses == 1 else "responses"
            counts = [f"{figure.responses} {noun}", f"{figure.agree} agree"]
        self.update("\n".join([head, *counts]))
        self.rag = figure.rag.value if figure.rag is not None else "none"

    def on_resize(self) -> None:
        """Shorter words under a narrow tile."""
        self._subtitle()

    def _subtitle(self) -> None:
        target = self.figure.target
        words = f"target {target:g}%" if target is not None else "no target"
        if len(words) + 6 > self.size.width > 0:  # corners, dashes and spaces take 6 columns
            words = f"{target:g}%" if target is not None else "none"
        self.border_subtitle = words

    def watch_rag(self, old: str, new: str) -> None:
        """Swap the RAG class (coloured in CSS)."""
        self.remove_class(f"-{old}")
        self.add_class(f"-{new}")

    def on_focus(self) -> None:
        """Ask the screen to chart this KPI."""
        self.post_message(self.Chosen(self))
