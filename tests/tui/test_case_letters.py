"""The case screen's letters key (`z`): the case's letters offered, one written as a PDF to the documents
folder, a refusal inline; with Pilot over a real store."""

from __future__ import annotations

from textual.widgets import OptionList, Static

from tests.tui.conftest import open_case, settle
from tracker.letters import letter_kinds
from tui.screens.help import HelpScreen
from tui.screens.letter import LetterScreen
from tui.widgets.status_line import StatusLine


async def choose_letter(pilot, kind: str) -> LetterScreen:
    """`z`, then the letter `kind` from the list, then Enter."""
    await pilot.press("z")
    await settle(pilot)
    picker = pilot.app.screen
    assert isinstance(picker, LetterScreen)
    kinds = picker.query_one("#letter-kinds", OptionList)
    kinds.highlighted = kinds.get_option_index(kind)
    await pilot.press("enter")
    await settle(pilot)
    return picker


async def test_z_offers_the_cases_letters_and_writes_the_chosen_one_as_a_pdf(
    app, tui_store, tmp_path, monkeypatch
) -> None:
    docs = tmp_path / "documents"
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(docs))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_case(app, pilot, "M-0003")
        await pilot.press("z")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, LetterScreen)
        kinds = picker.query_one("#letter-kinds", OptionList)
        offered = [kinds.get_option_at_index(i).id for i in range(kinds.option_count)]
        assert offered == letter_kinds(app.ctx.rules, app.ctx.settings, tui_store.case("M-0003"))
        assert "caseclock send" in str(picker.query_one(".dialog-subtitle", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert not docs.exists()  # looking is not writing

        await choose_letter(pilot, "la_notification")  # the LA was notified on 4 March: a copy
        assert app.screen is screen
        written = docs / "M-0003-la_notification.pdf"
        assert written.is_file()
        assert written.read_bytes().startswith(b"%PDF")
        words = str(screen.query_one(StatusLine).render())
        assert words == f"Wrote the la_notification letter of M-0003 to {written}"
        assert "Person" not in words  # the name is in the letter, never on the screen
        assert [n.message for n in app._notifications] == [words]


async def test_a_letter_the_case_cannot_have_yet_is_refused_inline_and_nothing_is_written(
    app, tmp_path, monkeypatch
) -> None:
    docs = tmp_path / "documents"
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(docs))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_case(app, pilot, "M-0001")  # only requested: no meeting held, no certificate
        picker = await choose_letter(pilot, "certificate_after_mediation")
        assert app.screen is picker  # still choosing: another letter may be wanted
        status = picker.query_one(StatusLine)
        assert status.error
        words = str(status.render())
        assert words.startswith("Not done: M-0001: no certificate_after_mediation yet: ")
        assert "Certificate issued does not fit" in words  # the pack's words, not its ids
        assert "certificate_issued" not in words
        assert not (docs / "M-0001-certificate_after_mediation.pdf").exists()
        assert not docs.exists() or not list(docs.iterdir())  # nothing at all in the folder


async def test_a_letter_to_a_folder_it_cannot_write_says_so_inline(app, tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(blocker / "documents"))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_case(app, pilot, "M-0003")
        picker = await choose_letter(pilot, "la_notification")
        assert app.screen is picker  # no error dialog, no traceback
        words = str(picker.query_one(StatusLine).render())
        assert words.startswith(f"Not done: cannot write the letter to {blocker / 'documents'} (")
        assert "caseclock letter --out" in words


async def test_the_help_lists_the_letters_key_and_that_sending_is_on_the_command_line(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_case(app, pilot, "M-0003")
        await pilot.press("question_mark")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        letters = [(d, more) for key, d, more in help_screen.keys if key == "z"]
        assert letters == [
            (
                "Letter",
                "Write one of the case's letters as a PDF to your documents folder. "
                "To email a letter and record that it went, use caseclock send on the command line.",
            )
        ]
