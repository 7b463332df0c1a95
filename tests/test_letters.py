"""`caseclock letter`: each document's text against its golden file (PDF read back with pypdf, DOCX with
python-docx), the refusals, the deployment's own templates, the sandbox and the file's mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader

from tests.letter_cases import NAME, STEPS, make_case, write_letters_config

GOLDEN = Path(__file__).parent / "golden" / "letters"
KINDS = list(STEPS)


@pytest.fixture
def sqlite_cli(cli, db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("rendering does not depend on the database: SQLite only")
    return cli


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def docx_text(path: Path) -> str:
    return "\n\n".join(paragraph.text for paragraph in docx.Document(str(path)).paragraphs) + "\n"


def words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("kind", KINDS)
def test_each_letter_reads_as_its_golden_file_in_pdf_and_docx(sqlite_cli, tmp_path, kind) -> None:
    config = write_letters_config(tmp_path / "config.toml")
    as_of = make_case(sqlite_cli, config, kind, "M-0042" if kind != "assessment_outcome" else "A-0042")
    ref = "A-0042" if kind == "assessment_outcome" else "M-0042"
    golden = (GOLDEN / f"{kind}.txt").read_text(encoding="utf-8")
    for fmt in ("pdf", "docx"):
        result = sqlite_cli("--config", str(config), "--as-of", as_of, "letter", ref, kind, "--format", fmt,
                            "--out", str(tmp_path))  # fmt: skip
        assert result.code == 0, result.err
        path = tmp_path / f"{ref}-{kind}.{fmt}"
        assert result.out == f"{ref}: {kind} written to {path}\n"
        assert NAME not in result.out + result.err
        if fmt == "pdf":
            # The PDF wraps lines where the page ends: compare word for word.
            assert words(pdf_text(path)) == words(golden)
        else:
            assert docx_text(path) == golden
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_letter_file_is_private_whatever_the_umask_and_replaces_an_earlier_one(
    sqlite_cli, tmp_path
) -> None:
    config = write_letters_config(tmp_path / "config.toml")
    as_of = make_case(sqlite_cli, config, "la_notification", "M-1")
    out = tmp_path / "notice.pdf"
    out.write_bytes(b"old")
    out.chmod(0o644)
    old = os.umask(0)
    try:
        result = sqlite_cli("--config", str(config), "--as-of", as_of, "letter", "M-1", "la_notification",
                            "--out", str(out))  # fmt: skip
    finally:
        os.umask(old)
    assert result.code == 0, result.err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_bytes().startswith(b"%PDF")


def test_the_provider_and_the_meeting_place_are_printed(sqlite_cli, tmp_path) -> None:
    config = write_letters_config(tmp_path / "config.toml")
    as_of = make_case(sqlite_cli, config, "meeting_confirmation", "M-7")
    out = tmp_path / "c.docx"
    result = sqlite_cli("--config", str(config), "--as-of", as_of, "letter", "M-7", "meeting_confirmation",
                        "--format", "docx", "--out", str(out))  # fmt: skip
    assert result.code == 0, result.err
    text = docx_text(out)
    assert "Example Mediation Services Ltd" in text
    assert "Place: County Hall, Martineau Lane, Norwich" in text
    assert "Date: 20 March 2026" in text


# ------------------------------------------------------------------ refusals


def test_an_unknown_kind_is_refused_with_the_nearest_one(sqlite_cli, tmp_path) -> None:
    config = write_letters_config(tmp_path / "config.toml")
    as_of = make_case(sqlite_cli, config, "la_notification", "M-1")
    result = sqlite_cli("--config", str(config), "--as-of", as_of, "letter", "M-1", "certifcate_deemed",
                        "--out", str(tmp_path))  # fmt: skip
    assert result.code == 2
    assert result.err.startswith("caseclock: KIND=certifcate_deemed: not a letter of M-1 (did you mean ")
    assert "'certificate_deemed'" in result.err
    assert result.err.count("\n") == 1
    assert list(tmp_path.glob("*.pdf")) == []


def test_a_certificate_before_the_meeting_or_a_decline_is_refused_with_the_reason(
    sqlite_cli, tmp_path
) -> None:
    config = write_letters_config(tmp_path / "config.toml")
    as_of = make_case(sqlite_cli, config, "la_notification", "M-1")
    before = sqlite_cli("--config", str(config), "show", "M-1", "--json").out
    result = sqlite_cli("--config", str(config), "--as-of", as_of, "letter", "M-1",
                        "certificate_after_mediation", "--out", str(tmp_path))  # fmt: skip
    assert result.code == 2
    assert result.err.startswith("caseclock: M-1: no certificate_after_mediation yet: ")
    assert "needs mediation_declined, meeting_held or mediation_not_arranged first" in result.err
    assert list(tmp_path.glob("*.pdf")) == []
    assert sqlite_cli("--config", str(config), "show", "M-1", "--json").out == before


def test_a_certificate_of_another_path_is_refused(sqlite_cli, tmp_path) -> None:
    config = write_letters_config(tmp_path / "config.toml")
    as_of = make_case(sqlite_cli, config, "certificate_advice_only", "M-1")
    result = sqlite_cli("--config", str(config), "--as-of", as_of, "letter", "M-1",
                        "certificate_after_mediation", "--out", str(tmp_path))  # fmt: skip
    assert result.code == 2
    assert "no certificate_after_mediation yet" in result.err


def test_an_unknown_format_and_a_missing_folder_are_refused(sqlite_cli, tmp_path) -> None:
    config = write_letters_config(tmp_path / "config.toml")
    as_of = make_case(sqlite_cli, config, "la_notification", "M-1")
    base = ("--config", str(config), "--as-of", as_of, "letter", "M-1", "la_notification")
    odt = sqlite_cli(*base, "--format", "odt")
    assert (odt.code, odt.err) == (2, "caseclock: --format=odt: use pdf or docx\n")
    nowhere = sqlite_cli(*base, "--out", str(tmp_path / "no" / "such.pdf"))
    assert nowhere.code == 2
    assert "--out=" in nowhere.err
    assert "name a file in a folder that exists" in nowhere.err


def test_a_copy_of_a_letter_already_recorded_can_be_written_again(sqlite_cli, tmp_path) -> None:
    config = write_letters_config(tmp_path / "config.toml")
    as_of = make_case(sqlite_cli, config, "la_notification", "M-1")
    assert sqlite_cli("--config", str(config), "--as-of", as_of, "record", "M-1", "la_notified").code == 0
    again = sqlite_cli("--config", str(config), "--as-of", as_of, "letter", "M-1", "la_notification",
                       "--out", str(tmp_path))  # fmt: skip
    assert again.code == 0, again.err


# ------------------------------------------------------------------ the deployment's own templates


def test_a_deployment_template_overrides_the_shipped_one(sqlite_cli, tmp_path) -> None:
    own = tmp_path / "mine" / "send-mediation"
    own.mkdir(parents=True)
    (own / "la_notification.j2").write_text(
        "# Our own notice\n\nCase {{ case.ref }} for {{ case.fields.la }}, dated {{ letter.date }}.\n",
        encoding="utf-8",
    )
    config = write_letters_config(tmp_path / "config.toml", '\n[letters]\ntemplates_dir = "mine"\n')
    as_of = make_case(sqlite_cli, config, "la_notification", "M-1")
    out = tmp_path / "n.docx"
    result = sqlite_cli("--config", str(config), "--as-of", as_of, "letter", "M-1", "la_notification",
                        "--format", "docx", "--out", str(out))  # fmt: skip
    assert result.code == 0, result.err
    assert docx_text(out) == "Our own notice\n\nCase M-1 for Norfolk County Council, dated 3 March 2026.\n"


@pytest.mark.parametrize(
    ("template", "complaint"),
    [
        ("{{ case.__class__.__mro__ }}", "not allowed in a template"),
        ("{{ case.nonsense }}", "has no attribute 'nonsense'"),
        ("{% if %}", "la_notification.j2:1: template la_notification.j2:"),
    ],
)
def test_a_template_that_reaches_outside_the_sandbox_or_is_broken_is_refused(
    sqlite_cli, tmp_path, template, complaint
) -> None:
    own = tmp_path / "mine" / "send-mediation"
    own.mkdir(parents=True)
    (own / "la_notification.j2").write_text(template, encoding="utf-8")
    config = write_letters_config(tmp_path / "config.toml", '\n[letters]\ntemplates_dir = "mine"\n')
    as_of = make_case(sqlite_cli, config, "la_notification", "M-1")
    result = sqlite_cli("--config", str(config), "--as-of", as_of, "letter", "M-1", "la_notification",
                        "--out", str(tmp_path))  # fmt: skip
    assert result.code == 2, result.out
    assert complaint in result.err
    assert result.err.count("\n") == 1
    assert list(tmp_path.glob("*.pdf")) == []


def test_every_certificate_kind_the_pack_lists_has_a_letter(rules) -> None:
    from tracker.domain.config import Settings
    from tracker.letters.catalogue import letter_specs

    pack = rules.packs.in_force("send-mediation", __import__("datetime").date(2026, 3, 1))
    kinds = pack.choices_of(pack.events["certificate_issued"].fields["kind"])
    specs = letter_specs(rules, "send-mediation", Settings().letters.templates_dir)
    certified = {spec.fields.get("kind") for spec in specs.values() if spec.records == "certificate_issued"}
    assert certified == set(kinds)


def test_the_certificate_prints_the_appeal_deadline_when_it_is_known() -> None:
    from tracker.letters.catalogue import LetterSpec
    from tracker.letters.render import render_text

    spec = LetterSpec(title="Mediation certificate", template="certificate.j2", records="certificate_issued",
                      fields={"kind": "deemed"}, to=["contacts"])  # fmt: skip
    context = {
        "provider": {"name": "P", "service": "S", "contract_reference": "", "contact_role": ""},
        "letter": {"kind": "certificate_deemed", "title": spec.title, "date": "6 March 2026"},
        "case": {"ref": "M-1", "fields": {"la": "Norfolk County Council"}},
        "person": {"name": ""},
        "on": {"mediation_requested": "2 March 2026"},
        "chosen": {"kind": "Deemed (s.55(5))"},
        "appeal_deadline": None,
    }
    plain = render_text("send-mediation", spec, "certificate_deemed", context, None)
    assert not any("Your appeal must be made by" in line for block in plain for line in block.lines)
    known = {**context, "appeal_deadline": "6 April 2026"}
    blocks = render_text("send-mediation", spec, "certificate_deemed", known, None)
    assert ("Your appeal must be made by 6 April 2026.",) in [block.lines for block in blocks]


def test_a_certificate_states_the_appeal_deadline_from_the_decision_letter(sqlite_cli, tmp_path) -> None:
    """DOMAIN.md's example: decision letter 2026-06-10, certificate 2026-07-20 -> 2026-08-20, in August, so
    the appeal is due on the first working day after 31 August: 1 September 2026."""
    config = write_letters_config(tmp_path / "config.toml")
    base = ("--config", str(config), "--as-of", "2026-07-20")
    opened = sqlite_cli(*base, "open", "M-9", "--type", "mediation", "--on", "2026-06-15",
                        "--field", "la=Norfolk County Council", "--field", "decision_letter_on=2026-06-10",
                        "--name", NAME, "--email", "ava@example.org")  # fmt: skip
    assert opened.code == 0, opened.err
    for step in (["mediation_requested", "--on", "2026-06-15"], ["mediation_declined", "--on", "2026-07-17"]):
        assert sqlite_cli(*base, "record", "M-9", *step).code == 0
    out = tmp_path / "certificate.docx"
    result = sqlite_cli(
        *base, "letter", "M-9", "certificate_advice_only", "--format", "docx", "--out", str(out)
    )
    assert result.code == 0, result.err
    assert "Your appeal must be made by 1 September 2026." in docx_text(out)
