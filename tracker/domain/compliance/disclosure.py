"""Disclosure control: how counts of people, and figures over few people, may leave the provider.

Pure. `Disclosure` is the policy (`[disclosure]` in the config; `--no-suppression` is method "none"), and
`protect` applies it to one breakdown of people (the counts of its rows, which add up to its total).
`tracker.domain.compliance.counting` calls it for every breakdown of people in a report (referrals by type,
by each referral field and by outcome, the profile, the satisfaction responses by group) and `small` for every
percentage or median, which is withheld when it is over fewer than `threshold` people.

The method UK official statistics use for small health and care counts (NHS England and ONS guidance on
disclosure control), in two forms:

* **suppress** (the default). *Primary suppression*: a count from 1 to `threshold` - 1 is shown as
  `"<5"` (`primary_marker`). The total is shown exactly, so one hidden count would be the total minus the
  others (560 - 556 = 4): *secondary suppression* then hides the smallest count still shown that is not 0
  (the first listed of equal ones), shown as `"[c]"` (`HIDDEN`, the Government Statistical Service's symbol
  for a confidential figure), and again, until no hidden count can be worked out exactly. Worked out means
  from what a reader knows: the total, the counts shown, that a `"<5"` is 1 to 4 (0 to 4 when no count
  above 0 is left shown, see below), and that a `"[c]"` is at least 5 and at most the smallest count above
  0 still shown (it was hidden before that one). Each hidden count then lies in a range of at least two
  values (`_ranges`); at least two counts are hidden wherever one is. Zeros are shown: 0 people identify
  no one. Only when every count above 0 is hidden and one can still be worked out (all 3 referrals of a
  month from one source: the total gives it away) is a 0 hidden too, as `"<5"` (0 is fewer than 5), the
  first listed. A breakdown of a single row is its total, and is shown as it is. What is not covered, with
  the total exact: a breakdown whose every count is hidden and each is 4 (two rows of 4 and 4: 8 can only be
  4 + 4); and two reports of overlapping periods (a quarter and its months) set against each other. Round
  instead when such reports are published together.
* **round**: every count of a breakdown, and its total independently, rounded to the nearest multiple of
  `threshold` (5: 0-2 become 0, 3-7 become 5, 8-12 become 10; with an even threshold a half goes up). Small
  counts get no symbol of their own: a 0 must not be told apart from a 1 or 2, or the rounding would tell
  what it hides. The rounded counts need not add up to the rounded total.
* **none**: every count as it is (the provider's own use: `--no-suppression`).

With "suppress" or "round", a percentage or median over fewer than `threshold` people is withheld (None,
with the figure's `suppressed` flag set) and not RAG-rated: a satisfaction result of 2 surveys, the days
from referral to a step of 3 cases, a waiting time of 4 clocks. Counts of clocks (KPI 2-5 met, breached,
...) are not counts of people in a breakdown and stay exact, as do the totals (referrals received, survey
responses).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Method = Literal["suppress", "round", "none"]
METHODS: tuple[Method, ...] = ("suppress", "round", "none")

HIDDEN = "[c]"
"""A count hidden by secondary suppression, or a percentage or median withheld: "confidential"."""

Shown = int | str
"""A count as shown: the number, a primary marker ("<5") or HIDDEN."""


@dataclass(frozen=True, slots=True)
class Disclosure:
    """The disclosure control applied to a report (DOMAIN.md "Reporting a period": small numbers)."""

    method: Method = "suppress"
    threshold: int = 5
    """Counts from 1 to threshold - 1 are small; percentages and medians need threshold people."""

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown disclosure method {self.method!r}; use one of {', '.join(METHODS)}")
        if not 2 <= self.threshold <= 100:
            raise ValueError(f"disclosure threshold {self.threshold} is not from 2 to 100")

    @property
    def active(self) -> bool:
        """Whether anything is hidden or rounded (method other than "none")."""
        return self.method != "none"

    @property
    def primary_marker(self) -> str:
        """What a small count is shown as when suppressing: "<5"."""
        return f"<{self.threshold}"

    def small(self, people: int) -> bool:
        """Whether a percentage or median over `people` is withheld (1 to threshold - 1 of them)."""
        return self.active and 0 < people < self.threshold

    def total(self, count: int) -> int:
        """A breakdown's total as shown: exact, or rounded when rounding."""
        return self.rounded(count) if self.method == "round" else count

    def rounded(self, count: int) -> int:
        """`count` to the nearest multiple of the threshold (a half goes up)."""
        base = self.threshold
        return (count + base // 2) // base * base

    def describe(self) -> str:
        """The method in words, for the exports' Summary."""
        if self.method == "none":
            return "off: every count as it is (for the provider's own use only)"
        if self.method == "round":
            return f"counts of people rounded to the nearest {self.threshold}"
        return (
            f'counts of 1 to {self.threshold - 1} people shown as "{self.primary_marker}", '
            f'others hidden as "{HIDDEN}" where a total would reveal them'
        )


SUPPRESS = Disclosure()
"""The default: counts of 1-4 people suppressed, then secondary suppression; results of few withheld."""
NO_DISCLOSURE = Disclosure("none")
"""Every count as it is (`--no-suppression`)."""


def protect(counts: Sequence[int], disclosure: Disclosure) -> tuple[Shown, ...]:
    """The counts of one breakdown of people (in row order, adding up to its total) as they may be shown."""
    if disclosure.method == "none":
        return tuple(counts)
    if disclosure.method == "round":
        return tuple(disclosure.rounded(count) for count in counts)
    if len(counts) < 2:
        return tuple(counts)  # the row is the total
    limit = disclosure.threshold
    primary = {i for i, count in enumerate(counts) if 0 < count < limit}
    secondary: set[int] = set()
    if not primary:
        return tuple(counts)
    while any(low == high for low, high in _ranges(counts, primary, secondary, limit).values()):
        shown = [i for i in range(len(counts)) if i not in primary and i not in secondary]
        above_zero = [i for i in shown if counts[i] > 0]
        if above_zero:
            secondary.add(min(above_zero, key=lambda i: (counts[i], i)))
        elif shown:
            primary.add(shown[0])  # a 0, hidden as "<5": nothing above 0 is left to hide
        else:
            break
    marker = disclosure.primary_marker
    return tuple(
        marker if i in primary else HIDDEN if i in secondary else count for i, count in enumerate(counts)
    )


def _ranges(
    counts: Sequence[int], primary: set[int], secondary: set[int], limit: int
) -> dict[int, tuple[int, int]]:
    """For each hidden count, the lowest and highest value a reader could work out for it.

    What they know: the hidden counts add up to the total less the counts shown; a primary one is 1 to
    limit - 1 (0 to limit - 1 when every count shown is 0: a 0 may be hidden then); a secondary one is at
    least `limit` and at most the smallest count above 0 still shown. Each range is exact for a sum of
    counts each in a range of whole numbers.
    """
    hidden = primary | secondary
    rest = sum(counts[i] for i in hidden)
    shown_above_zero = [counts[i] for i in range(len(counts)) if i not in hidden and counts[i] > 0]
    ceiling = min(shown_above_zero, default=rest)
    floor = 1 if shown_above_zero else 0
    bounds = {i: (floor, limit - 1) if i in primary else (limit, ceiling) for i in hidden}
    low_sum = sum(low for low, _high in bounds.values())
    high_sum = sum(high for _low, high in bounds.values())
    return {
        i: (max(low, rest - (high_sum - high)), min(high, rest - (low_sum - low)))
        for i, (low, high) in bounds.items()
    }
