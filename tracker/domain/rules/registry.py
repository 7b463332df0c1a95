"""Every version of every enabled pack, with look-ups by id, case type and date."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Iterator

from tracker.domain.errors import PackError
from tracker.domain.rules.model import Role, RulePack


class PackRegistry:
    """Every version of every enabled pack, with look-ups by id, case type and date."""

    def __init__(self, packs: Iterable[RulePack]) -> None:
        self._versions: dict[str, list[RulePack]] = {}
        self._dates: dict[str, list[dt.date]] = {}
        for pack in packs:
            self._versions.setdefault(pack.id, []).append(pack)
        for pack_id, versions in self._versions.items():
            versions.sort(key=lambda p: p.effective_from)
            dates = [p.effective_from for p in versions]
            self._dates[pack_id] = dates
            if len(set(dates)) != len(dates):
                raise PackError(f"pack {pack_id}: two versions take effect on the same date")
        self._case_types: dict[str, str] = {}
        for pack_id, versions in self._versions.items():
            for case_type in dict.fromkeys(t for p in versions for t in p.case_types):
                other = self._case_types.setdefault(case_type, pack_id)
                if other != pack_id:
                    raise PackError(f"case type {case_type!r} is declared by both {other} and {pack_id}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._versions)

    def versions(self, pack_id: str) -> list[RulePack]:
        """All versions of a pack, oldest first."""
        return list(self._versions[pack_id])

    def has_versions(self, pack_id: str) -> bool:
        """Whether the pack has more than one version (so any event date may pick other clocks)."""
        return len(self._versions[pack_id]) > 1

    def latest(self, pack_id: str) -> RulePack:
        """The newest version of a pack."""
        return self._versions[pack_id][-1]

    def in_force(self, pack_id: str, on: dt.date) -> RulePack:
        """The version in force on `on`; before the first version took effect, the first version."""
        versions = self._versions[pack_id]
        if len(versions) == 1:
            return versions[0]
        index = bisect_right(self._dates[pack_id], on) - 1
        return versions[max(index, 0)]

    def events_with_role(self, pack_id: str, role: Role) -> tuple[str, ...]:
        """The event types that play `role` in any version of a pack, sorted (a renamed one is still read)."""
        return tuple(
            sorted({name for version in self._versions[pack_id] if (name := version.event_with_role(role))})
        )

    def pack_for_case_type(self, case_type: str) -> str | None:
        """The id of the pack that serves `case_type`, or None."""
        return self._case_types.get(case_type)

    @property
    def case_types(self) -> list[str]:
        """Every case type of every enabled pack."""
        return list(self._case_types)

    @property
    def default_case_type(self) -> str:
        """The first case type of the first pack: what `open` uses without `--type`."""
        return next(iter(self._case_types))
