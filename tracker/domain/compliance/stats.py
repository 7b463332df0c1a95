"""Order statistics of a multiset of whole numbers given as value -> occurrences.

Reports measure days (referral to a step, a clock's start to its stop) over tens of thousands of cases; the
store reads them grouped as (value, how many), and these give exactly the figures `statistics.median` and
the nearest-rank method would give on the expanded, sorted list. Pure; used by `tracker.domain.compliance`.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction


class Multiset:
    """A multiset of whole numbers (value -> occurrences) read as if it were the sorted, expanded list."""

    def __init__(self, counts: Mapping[int, int]) -> None:
        self.items = sorted((value, n) for value, n in counts.items() if n)
        self.size = sum(n for _value, n in self.items)

    def at(self, index: int) -> int:
        """The value at 0-based position `index` of the sorted list."""
        seen = 0
        for value, n in self.items:
            seen += n
            if index < seen:
                return value
        raise IndexError(index)

    def median(self) -> float:
        """As `statistics.median` of the list: the middle value, or the mean of the two middle ones."""
        size = self.size
        if size % 2:
            return float(self.at(size // 2))
        return (self.at(size // 2 - 1) + self.at(size // 2)) / 2

    def percentile(self, percentile: int) -> int:
        """The nearest-rank percentile: the value at rank ceil(p/100 x n), at least the first."""
        rank = max(1, -(-percentile * self.size // 100))
        return self.at(rank - 1)

    def largest(self) -> int:
        """The largest value."""
        return self.items[-1][0]

    def mean(self) -> Fraction:
        """The exact mean (the caller rounds it)."""
        return Fraction(sum(value * n for value, n in self.items), self.size)
