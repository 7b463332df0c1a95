"""References and other typed values are matched as a whole: a trailing newline is refused, not let through.

A pattern anchored with `$` also matches just before a final newline, so `open "M-00001\n"` used to make a
case that no typed reference ever finds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracker.domain.config import load_config
from tracker.domain.errors import ConfigError
from tracker.domain.refs import is_reference
from tracker.domain.toml_errors import dotted

AS_OF = "2026-03-10"


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("M-00001", True),
        ("A/2026.1_x", True),
        ("M-00001\n", False),
        ("M-00001\r\n", False),
        ("\nM-00001", False),
        ("M 1", False),
        ("-M1", False),
        ("M" * 64, True),
        ("M" * 65, False),
    ],
)
def test_a_reference_is_valid_only_as_a_whole(text: str, valid: bool) -> None:
    assert is_reference(text) is valid


def test_open_refuses_a_reference_with_a_trailing_newline_in_one_line(cli) -> None:
    result = cli("--as-of", AS_OF, "open", "M-00001\n", "--type", "mediation")
    assert result.code == 2
    assert result.err.count("\n") == 1, result.err
    assert (
        result.err == "caseclock: REF='M-00001\\n': use letters, digits and - . _ / (up to 64), e.g. M-0042\n"
    )
    assert json.loads(cli("--as-of", AS_OF, "cases", "--all", "--json").out) == []


def test_show_with_a_trailing_newline_finds_no_case_and_says_so_in_one_line(cli) -> None:
    assert cli("--as-of", AS_OF, "open", "M-00001", "--type", "mediation").code == 0
    result = cli("--as-of", AS_OF, "show", "M-00001\n")
    assert result.code == 2
    assert result.err.count("\n") == 1, result.err
    assert result.err.startswith("caseclock: case 'M-00001\\n': no case has this reference")


def test_a_send_time_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[alerts]\nsend_at = "08:30\\n"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert "alerts.send_at" in caught.value.message
    path.write_text('[alerts]\nsend_at = "08:30"\n', encoding="utf-8")
    assert load_config(path, environ={})[0].alerts.send_at == "08:30"


def test_a_webhook_name_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[[webhooks]]\nname = "team\\n"\nurl = "https://example.invalid/hook"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert "webhooks[0].name" in caught.value.message


def test_a_key_with_a_newline_is_quoted_in_messages() -> None:
    assert dotted(["caseworkers", "Jo"]) == "caseworkers.Jo"
    assert dotted(["caseworkers", "Jo\n"]) == 'caseworkers."Jo\\n"'
