"""Regenerate the README's pictures of each pack's Summary page (docs/summary-<pack>.png).

    .venv/bin/python scripts/docs-images.py [--keep DIR]

In a temporary folder: a demo database of 400 cases (seed 7) made with the command line, a `[provider]`
config, and each pack's workbook for FY2025 as of 2026-03-10 (`caseclock export`); LibreOffice converts each
workbook to PDF and pdftoppm draws the first page (the Summary sheet) as a PNG, so the picture is the page a
commissioner prints. Needs LibreOffice and poppler-utils (scripts/install-libreoffice.sh,
scripts/install-chromium.sh). `--keep DIR` also leaves the workbooks, HTML pages and PDFs in DIR.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PACKS = ("send-mediation", "adoption-support")
AS_OF, PERIOD = "2026-03-10", "FY2025"
CONFIG = """\
[packs]
enabled = ["send-mediation", "adoption-support"]

[provider]
name = "Example Family Services Ltd"
commissioner = "Norfolk County Council, Children's Services"
contract_reference = "NCC-EXAMPLE-001"
contact_role = "Service manager"
"""


def caseclock(env: dict[str, str], *args: str) -> None:
    command = [str(Path(sys.executable).with_name("caseclock")), "--as-of", AS_OF, *args]
    subprocess.run(command, env=env, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="also leave the workbooks, pages and PDFs here")
    args = parser.parse_args()
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None or shutil.which("pdftoppm") is None:
        sys.exit(
            "needs LibreOffice and pdftoppm (scripts/install-libreoffice.sh, scripts/install-chromium.sh)"
        )
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "config.toml").write_text(CONFIG)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CASECLOCK_")},
            "CASECLOCK_DB": f"sqlite:///{folder / 'demo.db'}",
            "CASECLOCK_CONFIG": str(folder / "config.toml"),
        }
        caseclock(env, "init")
        caseclock(env, "demo", "--cases", "400", "--seed", "7")
        for pack in PACKS:
            workbook = folder / f"{pack}.xlsx"
            export = ("export", "--pack", pack, "--period", PERIOD)
            caseclock(env, *export, "--out", str(workbook))
            caseclock(env, *export, "--format", "html", "--out", str(workbook.with_suffix(".html")))
            profile = f"-env:UserInstallation=file://{folder / 'office-profile'}"
            subprocess.run(
                [
                    office,
                    "--headless",
                    profile,
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    str(folder),
                    str(workbook),
                ],
                check=True,
                capture_output=True,
                cwd=folder,
            )
            pdf = workbook.with_suffix(".pdf")
            png = DOCS / f"summary-{pack}"
            subprocess.run(
                ["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", pdf, png],
                check=True,
            )
            print(f"wrote {png}.png")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for item in folder.iterdir():
                if item.suffix in (".xlsx", ".pdf", ".html"):
                    shutil.copy2(item, args.keep / item.name)


if __name__ == "__main__":
    main()
