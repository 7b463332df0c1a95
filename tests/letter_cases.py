"""Cases that can have each letter, and a config with the provider and the LA's address (letter tests)."""

from __future__ import annotations

from pathlib import Path

NAME = "Ava Brown"
EMAIL = "ava.brown@example.org"
LA_ADDRESS = "send.mediation@norfolk.example"

PROVIDER = """
[provider]
name = "Example Mediation Services Ltd"
service = "Integrated Mediation and Disagreement Resolution"
contract_reference = "NCC-EXAMPLE-001"
contact_role = "Service manager"

[packs]
enabled = ["send-mediation", "adoption-support"]

[letters.la_addresses]
"Norfolk County Council" = "send.mediation@norfolk.example"
"""

# The steps of a mediation case up to the point where each letter is due, and the as-of date of the letter.
_OPEN = [
    "open", "{ref}", "--type", "mediation", "--on", "2026-03-02", "--field", "la=Norfolk County Council",
    "--field", "caseworker=Jo Smith", "--field", "decision_disputed=refusal_to_assess",
    "--name", NAME, "--email", EMAIL,
]  # fmt: skip
_REQUESTED = ["record", "{ref}", "mediation_requested", "--on", "2026-03-02"]
_SCHEDULED = [
    "record", "{ref}", "meeting_scheduled", "--on", "2026-03-04", "--meeting-date", "2026-03-20",
    "--meeting-place", "County Hall, Martineau Lane, Norwich",
]  # fmt: skip
STEPS: dict[str, tuple[list[list[str]], str]] = {
    "la_notification": ([_OPEN, _REQUESTED], "2026-03-03"),
    "meeting_confirmation": ([_OPEN, _REQUESTED, _SCHEDULED], "2026-03-05"),
    "certificate_advice_only": (
        [_OPEN, _REQUESTED, ["record", "{ref}", "mediation_declined", "--on", "2026-03-05"]],
        "2026-03-06",
    ),
    "certificate_after_mediation": (
        [_OPEN, _REQUESTED, _SCHEDULED,
         ["record", "{ref}", "meeting_held", "--on", "2026-03-20", "--outcome", "agreed"]],
        "2026-03-23",
    ),
    "certificate_deemed": (
        [_OPEN, _REQUESTED, ["record", "{ref}", "mediation_not_arranged", "--on", "2026-03-27"]],
        "2026-03-30",
    ),
    "assessment_outcome": (
        [
            ["open", "{ref}", "--type", "adoption_support", "--on", "2026-03-02",
             "--field", "service_user=adopter", "--name", NAME, "--email", EMAIL],
            ["record", "{ref}", "assessed", "--on", "2026-03-16"],
        ],
        "2026-03-17",
    ),
}  # fmt: skip


def write_letters_config(path: Path, extra: str = "") -> Path:
    path.write_text(PROVIDER + extra, encoding="utf-8")
    return path


def make_case(cli, config: Path, kind: str, ref: str) -> str:
    """Record the steps that make letter `kind` due on case `ref`; returns the letter's as-of date."""
    steps, as_of = STEPS[kind]
    for step in steps:
        args = [arg.replace("{ref}", ref) for arg in step]
        result = cli("--config", str(config), "--as-of", as_of, *args)
        assert result.code == 0, result.err
    return as_of
