"""Referrals by primary need and the professionals involved; caseworker names only in the provider's copy.

DOMAIN.md, "Referral need" and "Reporting a period": the SEND pack records the child's or young person's
primary need (the SEND Code of Practice categories) and the professionals and agencies involved, and reports
referrals by both; caseworker (staff) names stay with the provider, so an export names none unless it is
made with `--with-caseworkers`, which adds the figures per caseworker.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_compliance import NOW, RULES, TODAY, Case, report_of
from tests.test_report_reads import assert_store_matches_fold
from tests.test_rules import raw_copy, refused
from tracker.cli.demo import _CASEWORKERS
from tracker.domain.compliance import HIDDEN, NO_DISCLOSURE, SUPPRESSED, report_json
from tracker.domain.errors import Refused
from tracker.domain.periods import parse_period
from tracker.exporters import FORMATS
from tracker.reports.report import compliance_report, compliance_report_known_on
from tracker.store import Store

NEEDS = ["spld", "mld", "sld", "pmld", "semh", "slcn", "hi", "vi", "msi", "pd", "asd", "other", "not_known"]
H1 = parse_period("FY2026-H1")


# ---------------------------------------------------------------------------------------------- the field


def test_the_primary_need_takes_the_code_of_practice_categories_with_their_own_labels() -> None:
    pack = RULES.packs.in_force("send-mediation", H1.end)
    spec = pack.case_fields["primary_need"]
    assert (spec.group, spec.label("primary_need")) == ("referral", "Primary need")
    assert pack.choices_of(spec) == NEEDS
    assert pack.label("spld") == "Specific learning difficulty (SpLD)"
    assert pack.label("asd") == "Autistic spectrum disorder (ASD)"
    assert pack.label("slcn") == "Speech, language and communication needs (SLCN)"
    assert pack.label("not_known") == "Not known"
    for name in ("school_involved", "other_professionals_involved"):
        assert (pack.case_fields[name].type.value, pack.case_fields[name].group) == ("boolean", "referral")
    assert pack.reporting.need == "primary_need"
    assert pack.reporting.professionals == [
        "health_involved",
        "social_care_involved",
        "school_involved",
        "other_professionals_involved",
    ]


def test_a_case_records_its_need_and_a_bad_need_is_refused_with_a_did_you_mean() -> None:
    case = Case("M-N", "2026-04-01", primary_need="asd", school_involved=True)
    assert (case.state.fields["primary_need"], case.state.fields["school_involved"]) == ("asd", True)
    with pytest.raises(Refused) as info:
        Case("M-X", "2026-04-01", primary_need="asdd")
    assert "primary_need" in info.value.message
    assert "did you mean 'asd'?" in info.value.message


def test_the_pack_may_name_only_yes_no_referral_fields_as_professionals() -> None:
    raw = raw_copy()
    raw["reporting"]["professionals"] = ["health_involved", "source"]
    message = refused(raw)
    assert "reporting.professionals: 'source' must be a case field of type boolean" in message
    raw = raw_copy()
    raw["reporting"]["need"] = "primary_ned"
    assert "(did you mean 'primary_need'?)" in refused(raw)


# ---------------------------------------------------------------------------------------------- by need


def need_cases() -> list[Case]:
    """Nine referrals in the first half of FY2026 (and one before it, not counted)."""
    cases = [Case(f"M-A{i}", "2026-04-01", primary_need="asd", health_involved=True) for i in range(5)]
    cases += [
        Case("M-S1", "2026-05-01", primary_need="semh", school_involved=True, social_care_involved=True),
        Case("M-S2", "2026-06-01", primary_need="slcn", school_involved=True, health_involved=False),
        Case("M-S3", "2026-07-01", primary_need="not_known", other_professionals_involved=True),
        Case("M-S4", "2026-08-03", "disagreement_resolution", school_involved=True),  # no need recorded
        Case("M-OLD", "2026-03-02", primary_need="pd", school_involved=True),  # opened in FY2025
    ]
    cases[0].rec("mediation_requested", "2026-04-02").rec("la_notified", "2026-04-07")
    return cases


def test_referrals_are_reported_by_need_and_by_the_professionals_involved() -> None:
    cases = need_cases()
    exact = report_of(cases, suppress=False).referrals
    assert exact.received == 9
    assert exact.by_need is not None
    need = exact.by_need.as_dict()
    assert list(need) == [*NEEDS, "not_recorded"]  # every category listed, zeros too
    assert (need["asd"], need["semh"], need["slcn"], need["not_known"], need["not_recorded"]) == (
        5,
        1,
        1,
        1,
        1,
    )
    assert need["pd"] == 0  # the case opened before the period is not a referral of it
    assert exact.by_need.total == 9
    assert exact.professionals is not None
    assert exact.professionals.title == "Interface with other professionals"
    assert exact.professionals.as_dict() == {
        "health_involved": 5,
        "social_care_involved": 1,
        "school_involved": 3,
        "other_professionals_involved": 1,
    }
    assert exact.professionals.total == 9  # the referrals received: a referral may involve several
    shown = report_of(cases).referrals
    assert shown.by_need is not None
    assert shown.professionals is not None
    # four needs of 1 person each: 4 hidden counts adding up to 4 would be four 1s, so the 5 is hidden too
    assert (shown.by_need.as_dict()["asd"], shown.by_need.as_dict()["semh"]) == (HIDDEN, SUPPRESSED)
    assert shown.professionals.as_dict() == {
        "health_involved": 5,  # beside 2 and 2 hidden: 4, which could be 1 + 3 as well as 2 + 2
        "social_care_involved": SUPPRESSED,
        "school_involved": SUPPRESSED,
        "other_professionals_involved": SUPPRESSED,
    }
    body = report_json(report_of(cases, suppress=False))["referrals"]
    assert body["by_need"] == body["by_primary_need"] == need
    assert body["professionals"] == exact.professionals.as_dict()


def test_referrals_by_need_and_professionals_from_the_store_are_the_folds(store: Store) -> None:
    cases = need_cases()
    store.import_histories([(c.ref, c.events) for c in cases], NOW)
    for period in ("FY2026-H1", "FY2025", "2026-04", "FY2026"):
        assert_store_matches_fold(store, "send-mediation", parse_period(period), TODAY)
    referrals = compliance_report(store, None, H1, TODAY, disclosure=NO_DISCLOSURE).referrals
    assert referrals == report_of(cases, suppress=False).referrals
    assert referrals.by_need is not None
    assert referrals.by_need.as_dict()["asd"] == 5


# ---------------------------------------------------------------------------------------------- caseworkers


def test_the_figures_per_caseworker_are_the_provider_copys_only(store: Store) -> None:
    cases = need_cases()
    cases.append(
        Case("M-P", "2026-04-01", caseworker="Sam Patel")
        .rec("mediation_requested", "2026-04-01")
        .rec("la_notified", "2026-04-10")  # kpi2 due 8 Apr (Easter): breached; kpi5 (1 May) breached too
    )
    store.import_histories([(c.ref, c.events) for c in cases], NOW)
    commissioners = compliance_report(store, None, H1, TODAY)
    assert (commissioners.with_caseworkers, commissioners.caseworkers) == (False, ())
    assert all(line.owner is None for line in commissioners.clocks)
    assert "caseworkers" not in report_json(commissioners)
    provider = compliance_report(store, None, H1, TODAY, with_caseworkers=True)
    figures = {f.name: f for f in provider.caseworkers}
    assert list(figures) == ["Jo Smith", "Sam Patel"]
    jo, sam = figures["Jo Smith"], figures["Sam Patel"]
    assert (jo.opened, jo.met, jo.breached, jo.percent) == (9, 1, 1, 50.0)  # M-A0: kpi2 met, kpi5 breached
    assert (sam.opened, sam.met, sam.breached, sam.percent) == (1, 0, 2, 0.0)
    assert dict((clock, (met, breached)) for clock, met, breached in sam.by_clock)["kpi2"] == (0, 1)
    listed = report_json(provider)["caseworkers"]
    assert [c["name"] for c in listed] == ["Jo Smith", "Sam Patel"]
    assert listed[1]["by_clock"]["kpi2"] == {"met": 0, "breached": 1}


# ---------------------------------------------------------------------------------------------- exports


AS_OF = "2026-11-20"
PERIOD = "FY2026"


def contents(path: Path) -> Iterator[bytes]:
    """The file's bytes, and those of every member when it is a zip (xlsx, the csv zip)."""
    data = path.read_bytes()
    yield data
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                yield archive.read(name)


def names_in(path: Path) -> set[str]:
    found = set()
    for data in contents(path):
        for name in _CASEWORKERS:
            for encoded in (name.encode("utf-8"), name.encode("utf-16-le")):
                if encoded in data:
                    found.add(name)
    return found


@pytest.fixture
def demo(cli: Any) -> Any:
    result = cli("--as-of", AS_OF, "demo", "--cases", "80", "--seed", "3")
    assert result.code == 0, result.err
    return cli


def export(cli: Any, tmp_path: Path, fmt: str, *extra: str) -> Path:
    path = tmp_path / f"{fmt}-{len(extra)}.{fmt}"
    result = cli("--as-of", AS_OF, "export", "--period", PERIOD, "--format", fmt, "--out", str(path), *extra)
    assert result.code == 0, result.err
    return path


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_export_names_no_caseworker_unless_asked_to(demo: Any, tmp_path: Path, fmt: str) -> None:
    assert names_in(export(demo, tmp_path, fmt)) == set()
    named = export(demo, tmp_path, fmt, "--with-caseworkers")
    assert len(names_in(named)) >= 3  # the demo's caseworkers, in the lines and the Caseworkers sheet
    if fmt == "csv":
        with zipfile.ZipFile(named) as archive:
            sheet = next(n for n in archive.namelist() if n.endswith("-caseworkers.csv"))
            header = archive.read(sheet).decode("utf-8-sig").splitlines()[0]
        assert header.startswith('"Caseworker","Cases opened","Clocks met","Clocks breached","% met"')
        with zipfile.ZipFile(export(demo, tmp_path, fmt, "--no-suppression")) as archive:
            assert not any(n.endswith("-caseworkers.csv") for n in archive.namelist())


def test_the_provider_copys_caseworkers_add_up_to_the_report(demo: Any) -> None:
    def body(*extra: str) -> dict[str, Any]:
        result = demo("--as-of", AS_OF, "export", "--period", PERIOD, "--format", "json", *extra)
        assert result.code == 0, result.err
        return json.loads(result.out)

    plain, provider = body("--no-suppression"), body("--no-suppression", "--with-caseworkers")
    assert "caseworkers" not in plain
    assert {line["caseworker"] for line in plain["clocks"]} == {None}
    staff = provider["caseworkers"]
    assert {c["name"] for c in staff} <= set(_CASEWORKERS)
    assert sum(c["cases_opened"] for c in staff) == provider["referrals"]["received"]
    for key in ("kpi2", "kpi3", "kpi4", "kpi5"):
        kpi = provider["kpis"][key]
        assert sum(c["by_clock"][key]["met"] for c in staff) == kpi["met"]
        assert sum(c["by_clock"][key]["breached"] for c in staff) == kpi["breached"]
    assert {line["caseworker"] for line in provider["clocks"]} <= set(_CASEWORKERS)
    # apart from the names, the two copies hold the same figures
    for copy in (plain, provider):
        copy.pop("caseworkers", None)
        copy.pop("clocks")
    assert plain == provider
    need = provider["referrals"]["by_need"]
    assert sum(need.values()) == provider["referrals"]["received"]
    assert set(provider["referrals"]["professionals"]) == {
        "health_involved",
        "social_care_involved",
        "school_involved",
        "other_professionals_involved",
    }


# ---------------------------------------------------------------------------------------------- import


def test_the_cases_file_carries_the_need_and_the_professionals(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(
        "Reference,Type,Opened,Primary need,School involved,Other professionals involved\n"
        "M-1,mediation,2026-04-01,asd,yes,no\n"
        "M-2,mediation,2026-04-02,SLCN,no,yes\n",  # the code, in any case
        encoding="utf-8",
    )
    result = cli("--as-of", "2026-10-05", "import", "cases", str(path))
    assert result.code == 0, result.err
    shown = [json.loads(cli("--as-of", "2026-10-05", "show", ref, "--json").out) for ref in ("M-1", "M-2")]
    assert [s["fields"]["primary_need"] for s in shown] == ["asd", "slcn"]
    assert [s["fields"]["school_involved"] for s in shown] == [True, False]
    assert [s["fields"]["other_professionals_involved"] for s in shown] == [False, True]
    path.write_text("Reference,Type,Opened,Primary need\nM-3,mediation,2026-04-01,autism\n", encoding="utf-8")
    refused = cli("--as-of", "2026-10-05", "import", "cases", str(path))
    assert refused.code == 2
    assert "column primary_need: 'autism': use one of spld, mld" in refused.err


def test_a_return_produced_again_as_known_on_a_day_names_caseworkers_only_when_asked(store: Store) -> None:
    cases = need_cases()
    store.import_histories([(c.ref, c.events) for c in cases], NOW)
    known_on = NOW.date() + dt.timedelta(days=1)  # everything was recorded by then
    again = compliance_report_known_on(store, None, H1, TODAY, known_on)
    assert (again.with_caseworkers, again.caseworkers) == (False, ())
    assert all(line.owner is None for line in again.clocks)
    provider = compliance_report_known_on(store, None, H1, TODAY, known_on, with_caseworkers=True)
    now = compliance_report(store, None, H1, TODAY, with_caseworkers=True)
    assert (provider.caseworkers, list(provider.clocks)) == (now.caseworkers, list(now.clocks))
    assert {line.owner for line in provider.clocks} == {"Jo Smith"}
