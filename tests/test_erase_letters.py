"""Letters after erasure: one to the erased address is refused and nothing is sent or recorded; the letter
itself can still be written, its name reading "erased". A real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import json

from pypdf import PdfReader

from tests.alert_servers import smtp_server
from tests.letter_cases import EMAIL, LA_ADDRESS, NAME, make_case
from tests.test_letter_sending import config_for, events_of


def test_after_erasure_the_la_letter_goes_and_the_parent_letter_is_refused(cli, tmp_path) -> None:
    with smtp_server() as smtp:
        config = config_for(tmp_path, smtp.port)
        as_of = make_case(cli, config, "meeting_confirmation", "M-1")
        run = ("--config", str(config), "--as-of", as_of)
        assert cli(*run, "erase", "M-1", "--reason", "request of the data subject").code == 0
        refused = cli(*run, "send", "M-1", "meeting_confirmation")
        assert refused.code == 2
        assert refused.err.count("\n") == 1
        assert "personal data was erased" in refused.err
        assert smtp.drain() == []
        assert events_of(cli, config, "M-1", "confirmation_sent") == []
        shown = json.loads(cli(*run, "show", "M-1", "--json").out)
        assert shown["erased"] is not None
        sent = cli(*run, "letter", "M-1", "meeting_confirmation", "--out", str(tmp_path / "c.pdf"))
        assert sent.code == 0, sent.err
    words = " ".join(page.extract_text() for page in PdfReader(tmp_path / "c.pdf").pages)
    assert "erased" in words
    assert NAME not in words
    for secret in (EMAIL, NAME, LA_ADDRESS):
        assert secret not in refused.err
