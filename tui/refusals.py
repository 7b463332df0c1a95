"""Refusals in the caseworker's words: which form field a refusal concerns, and what to say beside it.

The domain raises refusals with their parts (`InvalidValue`: the field, the value, the reason, the values
allowed; `EventRefused`: the reason, the steps allowed, the field at fault). The command line prints their
one-line message, with its `--flags`; the forms word them here, with the form's own labels and the pack's
words for events and choices, so a caseworker reads "Certificate: choose one of After mediation" beside the
certificate field rather than `kind=(missing): ... add --kind VALUE`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tracker.domain.errors import CaseclockError, EventRefused, InvalidValue
from tracker.domain.rules import RulePack

_WORD = re.compile(r"\b[a-z][a-z0-9_]*\b")


@dataclass(frozen=True)
class Refusal:
    """What a form shows for a refusal."""

    text: str
    """The words, with the field's label first when there is a field."""
    field: str | None = None
    """The form field it concerns (its row is marked and the words shown beside it), or None."""


def humanise(pack: RulePack, text: str) -> str:
    """The pack's ids in `text` (events, states, choice values, clocks) replaced by their labels."""
    values = {value for values in pack.choices.values() for value in values}

    def label(match: re.Match[str]) -> str:
        word = match[0]
        if word in pack.events or word in pack.clocks or ("_" in word and word in values):
            return pack.label(word)
        return word

    return _WORD.sub(label, text)


def choice_words(pack: RulePack, values: Sequence[str]) -> str:
    """ "A, B or C" in the pack's labels."""
    labels = [pack.label(v) for v in values]
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"


def word_refusal(
    pack: RulePack,
    error: CaseclockError,
    labels: Mapping[str, str],
    offered: Mapping[str, Sequence[str]] | None = None,
    misfit: str = "This step does not fit the case now",
) -> Refusal:
    """A refusal in the caseworker's words.

    Args:
        pack: The case's pack (labels of events and choices).
        error: What the store or the domain raised.
        labels: The form's label of each of its fields, by field name.
        offered: The values each list field of the form offers, by field name.
        misfit: What an event that does not fit the case's state is called.
    """
    offered = offered or {}
    if isinstance(error, InvalidValue):
        name = error.field.lstrip("-").replace("-", "_")  # the command line's `--reason` is the reason
        field = name if name in labels else None
        label = labels.get(name, _label(pack, name))
        if error.missing and error.allowed and len(error.allowed) > 1:
            names = [labels.get(name, _label(pack, name)) for name in error.allowed]
            return Refusal(f"{label}: give at least one of {', '.join(names)}", field)
        choices = list(offered.get(name) or error.allowed)
        if error.missing:
            if choices:
                return Refusal(f"{label}: choose one of {choice_words(pack, choices)}", field)
            return Refusal(f"{label}: needed; fill it in", field)
        if error.allowed and field in offered:
            reason = humanise(pack, error.reason)
            if reason.startswith("use one of"):
                return Refusal(f"{label}: choose one of {choice_words(pack, error.allowed)}", field)
            return Refusal(f"{label}: {reason}; choose one of {choice_words(pack, error.allowed)}", field)
        return Refusal(f"{label}: {humanise(pack, error.reason)}", field)
    if isinstance(error, EventRefused):
        field = error.field if error.field in labels else None
        reason = humanise(pack, error.reason)
        if field is not None and error.allowed:  # recorded late: it did not fit on the date given
            return Refusal(f"{labels[field]}: the step does not fit on that date: {reason}", field)
        if field is not None:
            return Refusal(f"{labels[field]}: {reason}", field)
        steps = f". Steps that fit now: {choice_words(pack, error.allowed)}" if error.allowed else ""
        return Refusal(f"{misfit}: {reason}{steps}")
    return Refusal(error.message)


def _label(pack: RulePack, name: str) -> str:
    for event in pack.events:
        spec = pack.event_fields(event).get(name)
        if spec is not None:
            return spec.label(name)
    return name.replace("_", " ").capitalize()
