"""Case letters: the documents a service sends (notifications, confirmations, certificates, outcomes).

`catalogue` says which letters a pack has and whether a case can have one yet, `render` makes the PDF or
DOCX from the deployment's templates, and `sending` emails a letter and records its event without ever
losing or repeating one. The CLI (`caseclock letter`, `caseclock send`) and the TUI call `make_letter`,
`write_letter` and `send_letter`; nothing here knows SMTP (the caller passes a `Mailer`).
"""

from __future__ import annotations

from tracker.letters.making import LetterFile, letter_kinds, make_letter, write_letter
from tracker.letters.sending import Mailer, SentLetter, send_letter

__all__ = ["LetterFile", "Mailer", "SentLetter", "letter_kinds", "make_letter", "send_letter", "write_letter"]
