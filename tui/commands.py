"""The command palette's case finder: type part of a reference after ctrl+p and open the case.

Textual asks each provider for hits as the user types; this one reads the matching references from the
store in a thread (the palette keeps taking keystrokes meanwhile) and offers "Open case M-0042" for each.
Only references are matched here: the palette is on screen for anyone to see, so it never looks at names.
"""

from __future__ import annotations

import asyncio
from functools import partial

from textual.command import Hit, Hits, Provider

from tracker.domain.errors import CaseclockError
from tracker.store import CaseSummary

SHOWN = 8
"""At most this many cases offered."""
MIN_CHARACTERS = 2
"""A reference is looked up from this many characters typed (one matches nearly every case)."""


class CaseFinder(Provider):
    """Offers to open each case whose reference contains what was typed."""

    async def search(self, query: str) -> Hits:
        """The cases whose references contain `query` (any case, any view), most urgent first."""
        from tui.app import CaseclockApp
        from tui.screens.case import open_case

        text = query.strip()
        app = self.app
        if len(text) < MIN_CHARACTERS or not isinstance(app, CaseclockApp):
            return
        ctx = app.ctx
        try:
            found: list[CaseSummary] = await asyncio.to_thread(
                ctx.store.cases, ctx.clock.today(), "all", None, text, None, SHOWN
            )
        except CaseclockError:
            return  # the palette is no place for an error: the list simply has no cases
        matcher = self.matcher(text)
        for summary in found:
            if text.casefold() not in summary.ref.casefold():
                continue  # matched on the caseworker: the palette goes by reference only
            title = f"Open case {summary.ref}"
            exact = summary.ref.casefold() == text.casefold()
            state = ctx.pack_by_id(summary.pack).label(summary.state)
            yield Hit(
                1.0 if exact else max(matcher.match(title), 0.5),
                matcher.highlight(title),
                partial(open_case, app, ctx, summary.ref),
                text=title,
                help=f"{state} · {summary.owner or 'no caseworker'}",
            )
