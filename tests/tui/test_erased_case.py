"""The case screen of an erased case: the profile and the timeline say "erased", and who erased it when."""

from __future__ import annotations

from textual.widgets import Input

from tests.tui.conftest import AS_OF, NOW, open_case, settle
from tui.screens.event_form import EventFormScreen
from tui.widgets.row_table import RowTable
from tui.widgets.text_panel import TextPanel


async def test_an_erased_case_opens_and_says_erased(app, tui_store) -> None:
    tui_store.record("M-0003", "note", AS_OF, {"note": "Rang the school office"}, "seed", NOW, AS_OF)
    done = tui_store.erase("M-0003", "request of the data subject", "Jo Smith", NOW, AS_OF)
    assert done.new
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(app, pilot, "M-0003")
        profile = screen.query_one("#profile", TextPanel).text.plain
        assert "Name: erased" in profile
        assert "Person M-0003" not in profile
        timeline = screen.query_one("#timeline", RowTable)
        rows = [
            " ".join(str(cell) for cell in timeline.get_row(key))
            for key in map(str, range(1, done.erasure.seq + 1))
        ]
        assert any("Note: erased" in row for row in rows)
        assert "Rang the school office" not in " ".join(rows)
        assert "request of the data subject" in rows[-1]
        await pilot.press("e")  # change the details: an erased value is offered empty, not as "erased"
        await settle(pilot)
        form = app.screen
        assert isinstance(form, EventFormScreen)
        assert form.query_one("#input-name", Input).value == ""
        assert form.query_one("#input-caseworker").value == "Jo Smith"
