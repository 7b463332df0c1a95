"""Everything held about the person on one case, as one JSON document (`caseclock subject-access`).

A subject access request (UK GDPR art. 15) is answered with every piece of personal data held, so unlike
every other read-out this one carries the personal fields and the free text: the case as `show --json
--personal` gives it (`tracker.reports.views.case_json`: fields, personal fields, every event with its values
as recorded, who recorded it and when, voids and their reasons, the clocks as of a date, the parent's
windows), then the letters emailed on the case and the alerts recorded about it.

Pure assembly: the CLI reads the case (`Store.case`), its letter rows (`LetterSends.of_case`) and its alert
rows (`outbox.list_alerts(ref=...)`) and passes them in; `tracker.exporters.subject_access` writes the JSON
and a printable page of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from tracker.domain.workflow import CaseRecord, Rules
from tracker.reports.views import case_json
from tracker.store.letters import LetterSendRow

FORMAT = "caseclock-subject-access/1"
"""The document's `format`: its shape, for whoever reads the file later."""
LETTER_FIELD = "message_id"
"""The field of an event recorded by `caseclock send`: the email's Message-ID."""


class AlertView(Protocol):
    """An outbox row as the alerts read it (`tracker.alerts.outbox.AlertRow`)."""

    @property
    def payload(self) -> Mapping[str, Any]:
        """What the alert said."""
        ...

    def as_json(self) -> dict[str, Any]:
        """The `caseclock alerts --json` entry."""
        ...


def subject_access_json(
    record: CaseRecord,
    rules: Rules,
    as_of: dt.date,
    *,
    letters: Sequence[LetterSendRow],
    alerts: Sequence[AlertView],
    generated_at: dt.datetime,
    generated_by: str,
) -> dict[str, Any]:
    """The whole response for one case.

    Args:
        record: The case (`Store.case(ref)`), its events with the values as recorded.
        rules: The rules that fold it (labels, clocks, windows).
        as_of: The date the clocks' and windows' status is taken at.
        letters: The case's `letter_sends` rows, oldest first.
        alerts: The case's alert outbox rows, in any order (listed oldest first).
        generated_at: When the response was made.
        generated_by: Who made it (the configured user).
    """
    case = case_json(record, rules, as_of, include_personal=True)
    recorded = [
        {
            "seq": event["seq"],
            "type": event["type"],
            "on": event["on"],
            "message_id": event["data"][LETTER_FIELD],
            "voided": event["voided"],
        }
        for event in case["events"]
        if LETTER_FIELD in event["data"]
    ]
    listed = [{**alert.as_json(), "payload": dict(alert.payload)} for alert in alerts]
    listed.sort(key=lambda alert: (alert["created_at"], alert["id"]))
    return {
        "format": FORMAT,
        "subject_access": {
            "ref": record.state.ref,
            "as_of": as_of.isoformat(),
            "generated_at": generated_at.isoformat(),
            "generated_by": generated_by,
        },
        **case,
        "documents": {
            "letters_sent": [letter.as_json() for letter in letters],
            "letters_recorded": recorded,
        },
        "alerts": listed,
    }
