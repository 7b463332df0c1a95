"""The configuration file: discovery, validation and one-line error messages."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import platformdirs
import pytest
from pydantic import BaseModel

from tracker.cli import main
from tracker.domain import config
from tracker.domain.config import (
    Settings,
    default_config_path,
    load_config,
    smtp_password,
    webhook_secret,
    webhook_secret_env,
)
from tracker.domain.errors import ConfigError, Refused

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


@pytest.fixture
def no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Point the user config directory at an empty folder, so the developer's own file never leaks in."""
    home = tmp_path / "user-config"
    home.mkdir()
    monkeypatch.setattr(config, "default_config_path", lambda: home / "config.toml")
    return home / "config.toml"


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str, key: str, line: int | None = None) -> str:
    """Load `text`, expect a one-line ConfigError naming the file, `key` and its `line`; return the message.

    A secret is refused before validation and names no line (`line` None).
    """
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert "\n" not in message
    at = f" (line {line})" if line else ""
    assert message.startswith(f"{path}: {key}{at}: "), message
    return message


# ------------------------------------------------------------------ defaults and the example


def test_defaults_without_a_file(no_user_config: Path) -> None:
    settings, used = load_config(None, environ={})
    assert used is None
    assert settings == Settings()
    assert settings.user.name is None
    assert settings.cases.defaults == {}
    assert settings.packs.enabled is None
    assert settings.packs.dirs == []
    assert settings.calendar.extra_closures == []
    assert settings.alerts.send_at == "08:30"
    assert settings.alerts.send_time == dt.time(8, 30)
    assert settings.alerts.warn_working_days == [1, 0]
    assert settings.alerts.breach is True
    assert settings.alerts.digest is True
    assert settings.caseworkers == {}
    assert settings.email is None
    assert settings.webhooks == []


def test_default_path_is_in_the_user_config_directory() -> None:
    assert default_config_path() == Path(platformdirs.user_config_dir("caseclock")) / "config.toml"


def test_the_example_file_validates() -> None:
    settings, used = load_config(EXAMPLE, environ={})
    assert used == EXAMPLE
    assert settings.user.name == "Jo Smith"
    assert settings.cases.defaults == {"la": "Norfolk County Council"}
    assert settings.packs.enabled == ["send-mediation"]
    assert settings.caseworkers == {"Jo Smith": "jo.smith@provider.example"}
    assert settings.email is not None
    assert settings.email.host == "smtp.provider.example"
    assert settings.email.security == "starttls"
    assert [hook.name for hook in settings.webhooks] == ["team-channel"]
    assert settings.calendar_feed is not None
    assert settings.calendar_feed.path == EXAMPLE.parent / "caseclock.ics"


def test_the_example_file_runs_open_cases_and_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(EXAMPLE.parent)  # the file as shipped, by the name the README gives it
    options = [
        "--config",
        EXAMPLE.name,
        "--db",
        f"sqlite:///{tmp_path / 'cases.db'}",
        "--as-of",
        "2026-03-10",
    ]

    def run(*args: str) -> str:
        capsys.readouterr()
        code = main([*options, *args])
        out, err = capsys.readouterr()
        assert (code, err) == (0, ""), f"{args}: exit {code}: {err}"
        return out

    run("init")
    run("open", "M-1", "--on", "2026-03-02")  # the configured default_type, no --type
    [case] = json.loads(run("cases", "--json"))
    assert (case["ref"], case["type"], case["caseworker"]) == ("M-1", "mediation", None)
    shown = json.loads(run("show", "M-1", "--json"))
    assert shown["fields"]["la"] == "Norfolk County Council"  # [cases.defaults]
    assert shown["events"][0]["actor"] == "Jo Smith"  # [user] name
    report = json.loads(run("export", "--period", "FY2025", "--format", "json"))
    assert report["pack"]["id"] == "send-mediation"
    assert report["referrals"]["received"] == 1


def test_the_example_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    sections: dict[str, type[BaseModel]] = {
        "user": config.UserSettings,
        "cases": config.CasesSettings,
        "packs": config.PacksSettings,
        "calendar": config.CalendarSettings,
        "alerts": config.AlertsSettings,
        "email": config.EmailSettings,
        "webhooks": config.WebhookSettings,
        "calendar_feed": config.CalendarFeedSettings,
        "letters": config.LettersSettings,
        "retention": config.RetentionSettings,
    }
    for section, model in sections.items():
        assert section in text
        for key in model.model_fields:
            table = f"\n[{section}.{key}]\n" in text
            # A key whose value must name a real file or folder is documented commented out.
            documented = f"\n{key} = " in text or f"\n# {key} = " in text
            assert documented or table, f"{section}.{key} is not in config.example.toml"


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.alerts.breach = False  # type: ignore[misc]


# ------------------------------------------------------------------ discovery


def test_explicit_path_wins_over_environment_and_user_directory(tmp_path: Path, no_user_config: Path) -> None:
    no_user_config.write_text('[user]\nname = "from user dir"\n', encoding="utf-8")
    from_env = write(tmp_path, '[user]\nname = "from env"\n', "env.toml")
    explicit = write(tmp_path, '[user]\nname = "explicit"\n', "explicit.toml")
    settings, used = load_config(explicit, environ={"CASECLOCK_CONFIG": str(from_env)})
    assert (settings.user.name, used) == ("explicit", explicit)


def test_environment_variable_wins_over_user_directory(tmp_path: Path, no_user_config: Path) -> None:
    no_user_config.write_text('[user]\nname = "from user dir"\n', encoding="utf-8")
    from_env = write(tmp_path, '[user]\nname = "from env"\n', "env.toml")
    settings, used = load_config(None, environ={"CASECLOCK_CONFIG": str(from_env)})
    assert (settings.user.name, used) == ("from env", from_env)


def test_user_directory_file_is_used_when_present(no_user_config: Path) -> None:
    no_user_config.write_text('[user]\nname = "from user dir"\n', encoding="utf-8")
    settings, used = load_config(None, environ={"CASECLOCK_CONFIG": ""})
    assert (settings.user.name, used) == ("from user dir", no_user_config)


def test_explicit_path_that_does_not_exist_is_refused(tmp_path: Path, no_user_config: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(missing, environ={})
    assert str(caught.value) == f"{missing}: the config file does not exist (named by --config)"
    assert isinstance(caught.value, Refused)
    assert caught.value.exit_code == 2


def test_environment_path_that_does_not_exist_is_refused(tmp_path: Path, no_user_config: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="named by CASECLOCK_CONFIG") as caught:
        load_config(None, environ={"CASECLOCK_CONFIG": str(missing)})
    assert str(caught.value).startswith(f"{missing}: ")


def test_a_directory_instead_of_a_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config file") as caught:
        load_config(tmp_path, environ={})
    assert "\n" not in str(caught.value)


# ------------------------------------------------------------------ unknown keys


def test_unknown_nested_key_suggests_the_nearest_name(tmp_path: Path) -> None:
    message = refused(tmp_path, "[alerts]\nwarn_days = [2]\n", "alerts.warn_days", 2)
    assert message.endswith(": unknown key (did you mean 'warn_working_days'?)")


def test_unknown_top_level_key_suggests_the_nearest_name(tmp_path: Path) -> None:
    message = refused(tmp_path, "[alert]\nbreach = true\n", "alert", 1)
    assert message.endswith(": unknown key (did you mean 'alerts'?)")


def test_unknown_key_in_a_webhook_suggests_the_nearest_name(tmp_path: Path) -> None:
    text = '[[webhooks]]\nname = "a"\nurl = "https://example.invalid/a"\nformt = "slack"\n'
    message = refused(tmp_path, text, "webhooks[0].formt", 4)
    assert message.endswith("(did you mean 'format'?)")


def test_unknown_key_without_a_near_name_lists_the_valid_ones(tmp_path: Path) -> None:
    message = refused(tmp_path, "[user]\nzzz = 1\n", "user.zzz", 2)
    assert message.endswith(": unknown key (valid keys here: name)")


# ------------------------------------------------------------------ secrets


def test_smtp_password_in_the_file_is_refused_naming_the_variable(tmp_path: Path) -> None:
    text = '[email]\nhost = "smtp.example"\nsender = "a@b.example"\npassword = "hunter2"\n'
    message = refused(tmp_path, text, "email.password")
    assert "CASECLOCK_SMTP_PASSWORD" in message
    assert "hunter2" not in message


def test_webhook_secret_in_the_file_is_refused_naming_its_variable(tmp_path: Path) -> None:
    text = '[[webhooks]]\nname = "team-channel"\nurl = "https://example.invalid/hook"\nsecret = "s3cr3t"\n'
    message = refused(tmp_path, text, "webhooks[0].secret")
    assert "CASECLOCK_WEBHOOK_SECRET_TEAM_CHANNEL" in message
    assert "s3cr3t" not in message


@pytest.mark.parametrize("key", ["api_key", "auth_token", "smtp_password", "client-secret", "apiKey"])
def test_secret_like_keys_are_refused_anywhere(tmp_path: Path, key: str) -> None:
    message = refused(tmp_path, f'[cases.defaults]\n{key} = "x"\n', f"cases.defaults.{key}")
    assert "secrets never go in the config file" in message


def test_secret_variables_are_read_from_the_environment() -> None:
    environ = {"CASECLOCK_SMTP_PASSWORD": "pw", "CASECLOCK_WEBHOOK_SECRET_TEAM_CHANNEL": "hook"}
    assert smtp_password(environ) == "pw"
    assert webhook_secret("team-channel", environ) == "hook"
    assert smtp_password({}) is None
    assert smtp_password({"CASECLOCK_SMTP_PASSWORD": ""}) is None
    assert webhook_secret("other", environ) is None


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("team-channel", "CASECLOCK_WEBHOOK_SECRET_TEAM_CHANNEL"),
        ("ops.alerts", "CASECLOCK_WEBHOOK_SECRET_OPS_ALERTS"),
        ("Slack_1", "CASECLOCK_WEBHOOK_SECRET_SLACK_1"),
    ],
)
def test_webhook_secret_variable_name(name: str, variable: str) -> None:
    assert webhook_secret_env(name) == variable


# ------------------------------------------------------------------ values


@pytest.mark.parametrize("value", ['"8.30"', '"24:00"', '"8:30"', '"08:60"', "830"])
def test_bad_send_at_is_refused(tmp_path: Path, value: str) -> None:
    message = refused(tmp_path, f"[alerts]\nsend_at = {value}\n", "alerts.send_at", 2)
    assert "is not a time; use HH:MM such as 08:30" in message


def test_send_at_message_names_the_value(tmp_path: Path) -> None:
    message = refused(tmp_path, '[alerts]\nsend_at = "8.30"\n', "alerts.send_at", 2)
    assert message.endswith("alerts.send_at (line 2): '8.30' is not a time; use HH:MM such as 08:30")


def test_send_at_accepts_a_toml_time(tmp_path: Path) -> None:
    settings, _ = load_config(write(tmp_path, "[alerts]\nsend_at = 17:05:00\n"), environ={})
    assert settings.alerts.send_at == "17:05"
    assert settings.alerts.send_time == dt.time(17, 5)


def test_bad_email_security_is_refused(tmp_path: Path) -> None:
    text = '[email]\nhost = "smtp.example"\nsender = "a@b.example"\nsecurity = "tls"\n'
    message = refused(tmp_path, text, "email.security", 4)
    assert "'tls'" in message
    assert "'starttls', 'ssl' or 'none'" in message


def test_email_section_needs_a_host(tmp_path: Path) -> None:
    message = refused(tmp_path, '[email]\nsender = "a@b.example"\n', "email.host", 1)
    assert "required" in message


@pytest.mark.parametrize("address", ["jo.smith", "jo@localhost", "jo@@x.example", "jo smith@x.example"])
def test_caseworker_address_must_look_like_an_email(tmp_path: Path, address: str) -> None:
    message = refused(tmp_path, f'[caseworkers]\n"Jo Smith" = "{address}"\n', 'caseworkers."Jo Smith"', 2)
    assert "is not an email address" in message


def test_bad_recipient_is_named_by_its_index(tmp_path: Path) -> None:
    text = '[email]\nhost = "h.example"\nsender = "a@b.example"\nto = ["ok@b.example", "nope"]\n'
    refused(tmp_path, text, "email.to[1]", 4)


@pytest.mark.parametrize(
    ("value", "key", "fault"),
    [
        ("[1, 1]", "alerts.warn_working_days", "1 listed more than once; list each once"),
        ("[2, 31]", "alerts.warn_working_days[1]", "31 is too large; use at most 30"),
        ("[-1]", "alerts.warn_working_days[0]", "-1 is too small; use at least 0"),
        ('["1"]', "alerts.warn_working_days[0]", "'1' is not a whole number"),
    ],
)
def test_bad_warn_working_days_are_refused(tmp_path: Path, value: str, key: str, fault: str) -> None:
    message = refused(tmp_path, f"[alerts]\nwarn_working_days = {value}\n", key, 2)
    assert message.endswith(f"{key} (line 2): {fault}")


def test_wrong_type_names_the_value_and_what_is_expected(tmp_path: Path) -> None:
    message = refused(tmp_path, '[alerts]\nbreach = "yes"\n', "alerts.breach", 2)
    assert message.endswith("'yes' is not true or false")


def test_bad_closure_date_is_refused(tmp_path: Path) -> None:
    message = refused(
        tmp_path, '[calendar]\nextra_closures = ["2026-13-01"]\n', "calendar.extra_closures[0]", 2
    )
    assert "is not a date; use YYYY-MM-DD" in message


def test_closures_are_dates(tmp_path: Path) -> None:
    settings, _ = load_config(write(tmp_path, "[calendar]\nextra_closures = [2026-12-24]\n"), environ={})
    assert settings.calendar.extra_closures == [dt.date(2026, 12, 24)]


# ------------------------------------------------------------------ webhooks


def test_duplicate_webhook_names_are_refused(tmp_path: Path) -> None:
    hook = '[[webhooks]]\nname = "team"\nurl = "https://example.invalid/{}"\n'
    message = refused(tmp_path, hook.format("a") + hook.format("b"), "webhooks", 1)
    assert "'team'" in message


def test_webhook_names_that_share_a_secret_variable_are_refused(tmp_path: Path) -> None:
    hook = '[[webhooks]]\nname = "{}"\nurl = "https://example.invalid/hook"\n'
    message = refused(tmp_path, hook.format("team-a") + hook.format("team.a"), "webhooks", 1)
    assert "'team-a' and 'team.a'" in message


def test_the_second_webhook_is_named_by_its_index_and_its_own_line(tmp_path: Path) -> None:
    hook = '[[webhooks]]\nname = "{}"\nurl = "{}"\n'
    text = hook.format("a", "https://example.invalid/a") + hook.format("b", "ftp://example.invalid/b")
    refused(tmp_path, text, "webhooks[1].url", 6)


def test_a_single_webhooks_table_is_refused_naming_the_array_form(tmp_path: Path) -> None:
    message = refused(tmp_path, '[webhooks]\nname = "a"\nurl = "https://example.invalid/a"\n', "webhooks", 1)
    assert message.endswith("webhooks (line 1): is a single table; write each one as a [[webhooks]] block")


def test_webhook_url_must_be_http(tmp_path: Path) -> None:
    text = '[[webhooks]]\nname = "a"\nurl = "ftp://example.invalid/hook"\n'
    message = refused(tmp_path, text, "webhooks[0].url", 3)
    assert "http:// or https://" in message


def test_webhook_name_characters(tmp_path: Path) -> None:
    text = '[[webhooks]]\nname = "team channel"\nurl = "https://example.invalid/hook"\n'
    message = refused(tmp_path, text, "webhooks[0].name", 2)
    assert "'team channel'" in message


def test_webhook_defaults(tmp_path: Path) -> None:
    text = '[[webhooks]]\nname = "a"\nurl = "http://localhost:8080/hook"\n'
    settings, _ = load_config(write(tmp_path, text), environ={})
    assert settings.webhooks[0].format == "generic"
    assert settings.webhooks[0].timeout_seconds == 10


# ------------------------------------------------------------------ packs


def test_relative_pack_dirs_resolve_against_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "deploy"
    (folder / "packs").mkdir(parents=True)
    absolute = tmp_path / "elsewhere"
    absolute.mkdir()
    path = write(folder, f'[packs]\ndirs = ["packs", "{absolute.as_posix()}"]\n')
    settings, _ = load_config(path, environ={})
    assert settings.packs.dirs == [folder / "packs", absolute]


def test_missing_pack_dir_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, '[packs]\ndirs = ["no-such-dir"]\n', "packs.dirs[0]", 2)
    assert "is not a directory" in message


def test_bad_pack_id_is_refused(tmp_path: Path) -> None:
    refused(tmp_path, '[packs]\nenabled = ["Send Mediation"]\n', "packs.enabled[0]", 2)


# ------------------------------------------------------------------ TOML syntax


def test_toml_syntax_error_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[alerts]\nbreach = \n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: not valid TOML: ")
    assert "line 2" in message
