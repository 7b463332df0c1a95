"""The deployment's settings: one TOML file, validated into frozen pydantic models.

Who calls what: the CLI (the composition root) calls `load_config` once per command, with `--config` if
given, and hands pieces of the resulting `Settings` to the code that needs them: `calendar.extra_closures` to
the working-day calendar, `packs` to the rule pack registry, `cases` and `user` to the commands that open
cases and record events (and to the store, as the actor of each event), and `alerts`, `caseworkers`,
`email` and `webhooks` to the scheduler and the notifiers, and `calendar_feed` to the feed `watch` writes.
Nothing else reads the file, or the environment for settings.

Discovery order: the `--config` path, else `CASECLOCK_CONFIG`, else `config.toml` in the user config directory
(platformdirs) if it exists, else the defaults. Secrets never live in the file: `smtp_password` and
`webhook_secret` read them from the environment, and a key that looks like a secret is refused.

Every problem raises `ConfigError` with one line, `<file>: <dotted.key>: <what is wrong>`; a value the models
refuse also names the key's line, `<file>: <dotted.key> (line N): <what is wrong>`
(`tracker.domain.toml_errors`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from tracker.domain.errors import ConfigError
from tracker.domain.toml_errors import dotted, validation_message

CONFIG_ENV = "CASECLOCK_CONFIG"
"""Environment variable naming the config file when `--config` is not given."""
SMTP_PASSWORD_ENV = "CASECLOCK_SMTP_PASSWORD"
"""Environment variable holding the SMTP password for `[email] username`."""
WEBHOOK_SECRET_ENV_PREFIX = "CASECLOCK_WEBHOOK_SECRET_"
"""Prefix of the environment variable holding a webhook's HMAC secret; see `webhook_secret_env`."""

_SECRET_KEY = re.compile(
    r"(?:^|_)(?:password|passwd|passphrase|pwd|secret|token|apikey|api_key|private_key|credentials?)s?(?:_|$)"
)
_TIME = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")  # fullmatch: `$` lets "08:30\n" through


def _email_address(value: str) -> str:
    from email.utils import parseaddr  # here, not at the top: the email package is slow to import

    address = parseaddr(value)[1]
    local, _, domain = address.rpartition("@")
    if address.count("@") != 1 or not local or "." not in domain.strip(".") or re.search(r"\s", address):
        raise ValueError(f"{value!r} is not an email address; use name@domain.example")
    return value


def _hh_mm(value: object) -> object:
    # TOML has a native local-time type; accept `08:30:00` as well as the documented "08:30".
    if isinstance(value, dt.time) and value.second == 0 and value.microsecond == 0:
        return value.strftime("%H:%M")
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise ValueError(f"{value!r} is not a time; use HH:MM such as 08:30")
    return value


def _unique(values: list[Any]) -> list[Any]:
    repeated = sorted({repr(v) if isinstance(v, str) else str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"{', '.join(repeated)} listed more than once; list each once")
    return values


def _pack_dir(value: Path, info: ValidationInfo) -> Path:
    # Only a loaded file has a folder to resolve against; settings built in code keep their paths as given.
    base = (info.context or {}).get("base_dir")
    if base is None:
        return value
    directory = Path(base, value.expanduser()).absolute()
    if not directory.is_dir():
        raise ValueError(f"{str(directory)!r} is not a directory")
    return directory


_Email = Annotated[str, AfterValidator(_email_address)]
_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
_PACK_ID_PATTERN = r"^[a-z][a-z0-9-]*$"
_WEBHOOK_NAME_PATTERN = r"^[A-Za-z0-9._-]+$"
_URL_PATTERN = r"^https?://\S+$"
_CHOICE_PATTERN = r"^[a-z0-9][a-z0-9_]*$"
_PATTERN_HINTS = {
    _NAME_PATTERN: "use lower-case letters, digits and _, starting with a letter (as in the rule pack)",
    _PACK_ID_PATTERN: "use a rule pack id such as send-mediation",
    _WEBHOOK_NAME_PATTERN: "use letters, digits, -, . and _ only",
    _URL_PATTERN: "use a URL starting with http:// or https://",
    _CHOICE_PATTERN: "use lower-case letters, digits and _ (a value as stored, e.g. south_norfolk)",
}
_Name = Annotated[str, Field(pattern=_NAME_PATTERN, max_length=48)]
_PackId = Annotated[str, Field(pattern=_PACK_ID_PATTERN, max_length=48)]
_Seconds = Annotated[StrictFloat, Field(gt=0, le=600)]
_ChoiceValue = Annotated[str, Field(pattern=_CHOICE_PATTERN, max_length=48)]
_WorkingDays = Annotated[StrictInt, Field(ge=0, le=30)]


class _Section(BaseModel):
    # No use_attribute_docstrings: pydantic would read this file's source at import (~0.1 s on every command)
    # for descriptions nothing at run time shows; the docstrings below are for readers.
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserSettings(_Section):
    """`[user]`: who is using this machine."""

    name: Annotated[str, Field(min_length=1)] | None = None
    """The person using this machine: the actor of every event they record, and the TUI's "Mine" view."""


class ProviderSettings(_Section):
    """`[provider]`: who a commissioner's report is from, printed first in every export."""

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """The provider's name, as the contract names it."""
    service: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """The commissioned service (default: the rule pack's title)."""
    commissioner: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """Who receives the report, e.g. "Norfolk County Council, Children's Services"."""
    contract_reference: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    contact_role: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """Whom to ask about the report: a role, not a person's name (the report may be passed on)."""


class CasesSettings(_Section):
    """`[cases]`: how new cases are opened."""

    reference_prefix: Annotated[str, Field(min_length=1, max_length=12)] | None = None
    """Overrides the rule pack's prefix for auto-generated references (None: the pack's, e.g. "M-")."""
    default_type: _Name | None = None
    """The case type `caseclock open` uses without `--type` (None: required when a pack has several types)."""
    defaults: dict[_Name, str] = Field(default_factory=dict)
    """Default values of case fields, by field name (`la = "Norfolk County Council"`)."""


class ClockOverride(_Section):
    """`[packs.overrides.<pack>.clocks.<clock>]`: a deployment's own numbers for one clock."""

    working_days_after: Annotated[int, Field(ge=0, le=400)] | None = None
    """Replaces the clock's `working_days_after` (only for a clock counted that way)."""
    working_days_before: Annotated[int, Field(ge=0, le=400)] | None = None
    """Replaces the clock's `working_days_before` (only for a clock counted that way)."""
    calendar_days_after: Annotated[int, Field(ge=0, le=400)] | None = None
    """Replaces the clock's `calendar_days_after` (only for a clock counted that way)."""
    target: Annotated[float, Field(ge=0, le=100)] | None = None
    """Replaces the clock's KPI target, in percent."""


class PackOverride(_Section):
    """`[packs.overrides.<pack>]`: a deployment's own numbers for a pack (every version of it)."""

    clocks: dict[str, ClockOverride] = Field(default_factory=dict)
    """Per clock id: its due rule's number and its target."""
    satisfaction_target: Annotated[float, Field(ge=0, le=100)] | None = None
    """Replaces the satisfaction KPI's target, in percent."""
    choices: dict[_Name, Annotated[list[_ChoiceValue], Field(min_length=1), AfterValidator(_unique)]] = Field(
        default_factory=dict
    )
    """Per choice list name: the deployment's own values (its districts, say); cases keep what they hold."""


class PacksSettings(_Section):
    """`[packs]`: which rule packs to load and where from."""

    enabled: Annotated[list[_PackId], AfterValidator(_unique)] | None = None
    """Ids of the rule packs to enable (None: the packs marked enabled_by_default)."""
    dirs: list[Annotated[Path, AfterValidator(_pack_dir)]] = Field(default_factory=list)
    """Extra directories of rule pack TOML files; relative paths are relative to the config file's folder."""
    overrides: dict[str, PackOverride] = Field(default_factory=dict)
    """Per pack id: the deployment's own clock numbers and targets, e.g. targets set by the commissioner
    before a new pack version exists."""


class CalendarSettings(_Section):
    """`[calendar]`: the deployment's own non-working days."""

    extra_closures: Annotated[list[dt.date], AfterValidator(_unique)] = Field(default_factory=list)
    """Dates that are not working days for this deployment, besides the statutory calendar (default: none)."""


class DisclosureSettings(_Section):
    """`[disclosure]`: how small numbers of people are shown in the reports that leave the provider."""

    method: Literal["suppress", "round"] = "suppress"
    """suppress: counts of 1 to threshold - 1 shown as "<5", with secondary suppression; round: every count
    of people rounded to the nearest `threshold`. `tracker.domain.compliance.disclosure.Disclosure` is
    built from these two (not here: the compliance package is slow to import for every command)."""
    threshold: Annotated[StrictInt, Field(ge=2, le=100)] = 5
    """Counts below it are small; a percentage or median needs at least this many people."""


class TuiSettings(_Section):
    """`[tui]`: the caseworkers' terminal UI on this machine."""

    search_names: StrictBool = False
    """Let the TUI's search match the service user's name (a personal field). Turn it on only on a
    caseworker's own machine: the name is then matched as typed, and still never shown in alerts, logs or
    exports."""


def _existing_file(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    if base is None:
        return value
    found = Path(base, value.expanduser()).absolute()
    if not found.is_file():
        raise ValueError(f"{str(found)!r} is not a file")
    return found


class RetentionSettings(_Section):
    """`[retention]`: the provider's retention policy for personal data (absent: nothing is erased by it).

    `caseclock retention` and `watch` (once a day) erase the personal data and free text of every case
    that ended (reached a terminal state of its pack: closed, withdrawn, ...) this many years ago; the
    case's facts, clocks and counts stay. The SEND pack's 6 years is a default, not advice.
    """

    personal_data_years_after_end: Annotated[StrictInt, Field(ge=1, le=100)]
    """Whole years after a case ends after which its personal data is erased (1..100)."""


class LettersSettings(_Section):
    """`[letters]`: the documents `caseclock letter` writes and `caseclock send` emails."""

    templates_dir: Annotated[Path, AfterValidator(_pack_dir)] | None = None
    """A folder of the deployment's own templates, `<pack id>/<kind>.j2`, used before the shipped ones;
    relative to the config file's folder."""
    la_addresses: dict[Annotated[str, Field(min_length=1)], _Email] = Field(default_factory=dict)
    """The case's local authority (its `la` field, as written on cases) -> the address its letters go to."""
    font: Annotated[Path, AfterValidator(_existing_file)] | None = None
    """A TrueType font for PDF letters (None: DejaVu Sans where installed, else the PDF's built-in
    Helvetica, which prints only Latin-1 letters)."""


class AlertsSettings(_Section):
    """`[alerts]`: when and which alerts are sent."""

    send_at: Annotated[str, BeforeValidator(_hh_mm)] = "08:30"
    """Time of day (HH:MM, 24h, Europe/London) at which `watch` sends the day's alerts on working days."""
    warn_working_days: Annotated[list[_WorkingDays], AfterValidator(_unique)] = [1, 0]
    """Warnings N working days before a due date (each 0..30); 0 = on the due day."""
    breach: StrictBool = True
    """Send one alert on the first working day after a missed due date."""
    digest: StrictBool = True
    """Also send each email recipient a daily digest at send_at: due today, due in 2 working days, overdue."""

    @property
    def send_time(self) -> dt.time:
        """`send_at` as a time of day."""
        return dt.time.fromisoformat(self.send_at)


def _feed_path(value: Path, info: ValidationInfo) -> Path:
    # As `_pack_dir`: a relative path is relative to the config file's folder. Whether the folder exists is
    # checked when `watch` starts, so a feed on a share that is not mounted stops no other command.
    base = (info.context or {}).get("base_dir")
    path = value.expanduser()
    return Path(base, path).absolute() if base is not None else path


class CalendarFeedSettings(_Section):
    """`[calendar_feed]`: the iCalendar file `watch` writes on each pass, for calendars to subscribe to."""

    path: Annotated[Path, AfterValidator(_feed_path)]
    """The file written (atomically, readable by its owner only); relative to the config file's folder."""
    caseworker: Annotated[str, Field(min_length=1)] | None = None
    """Only the cases of this caseworker, as named on cases (None: every case)."""


class EmailSettings(_Section):
    """`[email]`: the SMTP server alerts are sent through. The password comes from CASECLOCK_SMTP_PASSWORD."""

    host: Annotated[str, Field(min_length=1)]
    """SMTP server host name."""
    port: Annotated[StrictInt, Field(ge=1, le=65535)] = 587
    """SMTP server port."""
    security: Literal["starttls", "ssl", "none"] = "starttls"
    """starttls (usually port 587), ssl (implicit TLS, usually 465) or none (a local relay only)."""
    username: str | None = None
    """SMTP login (None: send without logging in)."""
    sender: _Email
    """The From address, optionally with a display name: "caseclock <alerts@provider.example>"."""
    to: list[_Email] = Field(default_factory=list)
    """Addresses that receive every alert (besides the case's caseworker)."""
    escalate_to: list[_Email] = Field(default_factory=list)
    """Addresses that also receive breach alerts."""
    timeout_seconds: _Seconds = 30
    """Seconds to wait for the SMTP server before the send counts as failed (and is retried)."""


class WebhookSettings(_Section):
    """One `[[webhooks]]` entry. Its secret comes from the environment: see `webhook_secret_env`."""

    name: Annotated[str, Field(pattern=_WEBHOOK_NAME_PATTERN, max_length=64)]
    """Unique name (letters, digits, - . _); also names the environment variable of the secret."""
    url: Annotated[str, Field(pattern=_URL_PATTERN)]
    """The endpoint that receives a POST per alert (http:// or https://)."""
    format: Literal["generic", "teams", "slack"] = "generic"
    """Body shape: generic (signed JSON, see CONTRACT.md), teams or slack."""
    timeout_seconds: _Seconds = 10
    """Seconds to wait for the endpoint before the send counts as failed (and is retried)."""


class Settings(_Section):
    """Everything in the config file. `Settings()` is the configuration when there is no file."""

    user: UserSettings = Field(default_factory=UserSettings)
    """`[user]`: who is using this machine."""
    cases: CasesSettings = Field(default_factory=CasesSettings)
    """`[cases]`: how new cases are opened."""
    provider: ProviderSettings = Field(default_factory=ProviderSettings)
    """`[provider]`: who the reports are from."""
    packs: PacksSettings = Field(default_factory=PacksSettings)
    """`[packs]`: which rule packs to load."""
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    """`[calendar]`: extra non-working days."""
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)
    """`[alerts]`: when and which alerts are sent."""
    tui: TuiSettings = Field(default_factory=TuiSettings)
    """`[tui]`: the terminal UI on this machine."""
    disclosure: DisclosureSettings = Field(default_factory=DisclosureSettings)
    """`[disclosure]`: small-number control of the reports."""
    caseworkers: dict[Annotated[str, Field(min_length=1)], _Email] = Field(default_factory=dict)
    """`[caseworkers]`: caseworker name (as used on cases) -> email address for their alerts."""
    email: EmailSettings | None = None
    """`[email]`: the SMTP server (None: no email alerts)."""
    letters: LettersSettings = Field(default_factory=LettersSettings)
    """`[letters]`: templates and addresses of the case letters."""
    webhooks: list[WebhookSettings] = Field(default_factory=list)
    """`[[webhooks]]`: endpoints that receive every alert."""
    calendar_feed: CalendarFeedSettings | None = None
    """`[calendar_feed]`: the iCalendar file `watch` keeps up to date (None: none is written)."""
    retention: RetentionSettings | None = None
    """`[retention]`: how long personal data is kept after a case ends (None: no policy, nothing erased)."""

    @field_validator("webhooks", mode="after")
    @classmethod
    def _unique_webhooks(cls, hooks: list[WebhookSettings]) -> list[WebhookSettings]:
        # Names that differ only in case, '-' or '.' would share one secret variable, so compare those too.
        seen: dict[str, str] = {}
        for hook in hooks:
            env = webhook_secret_env(hook.name)
            if env in seen:
                same = "named" if seen[env] == hook.name else f"{seen[env]!r} and"
                raise ValueError(f"two webhooks are {same} {hook.name!r}; give each a unique name")
            seen[env] = hook.name
        return hooks


# ------------------------------------------------------------------ secrets


def smtp_password(environ: Mapping[str, str] = os.environ) -> str | None:
    """The SMTP password from CASECLOCK_SMTP_PASSWORD, or None when it is unset or empty."""
    return environ.get(SMTP_PASSWORD_ENV) or None


def webhook_secret_env(name: str) -> str:
    """The variable holding a webhook's secret: team-channel -> CASECLOCK_WEBHOOK_SECRET_TEAM_CHANNEL."""
    return WEBHOOK_SECRET_ENV_PREFIX + name.upper().replace("-", "_").replace(".", "_")


def webhook_secret(name: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """The HMAC secret of the named webhook from the environment, or None when it is unset or empty."""
    return environ.get(webhook_secret_env(name)) or None


# ------------------------------------------------------------------ loading


def default_config_path() -> Path:
    """`config.toml` in the user config directory (it may not exist)."""
    return Path(platformdirs.user_config_dir("caseclock")) / "config.toml"


def load_config(path: Path | None, environ: Mapping[str, str] = os.environ) -> tuple[Settings, Path | None]:
    """Find, read and validate the configuration.

    Args:
        path: The file given with `--config`, or None to look for one.
        environ: Where to read CASECLOCK_CONFIG.

    Returns:
        The settings and the file they came from (None when no file was found and the defaults apply).

    Raises:
        ConfigError: a named file does not exist, or the file is not valid TOML or not a valid configuration.
    """
    if path is not None:
        source, named_by = path.expanduser(), "--config"
    elif environ.get(CONFIG_ENV):
        source, named_by = Path(environ[CONFIG_ENV]).expanduser(), CONFIG_ENV
    else:
        source, named_by = default_config_path(), ""
        if not source.is_file():
            return Settings(), None
    if not source.exists():
        raise ConfigError(f"{source}: the config file does not exist (named by {named_by})")
    try:
        text = source.read_bytes().decode("utf-8")
        raw = tomllib.loads(text)
    except OSError as error:
        raise ConfigError(f"{source}: cannot read the config file ({error.strerror})") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{source}: not UTF-8 text ({error.reason} at byte {error.start})") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from error
    return parse_config(raw, source, text), source


def parse_config(raw: Mapping[str, Any], source: Path, text: str = "") -> Settings:
    """Validate already-parsed TOML; relative paths are resolved against `source`'s folder.

    `text`, the file's TOML text, lets a refusal name the line of the key (`tracker.domain.toml_errors`).
    """
    _refuse_secrets(raw, source, ())
    try:
        return Settings.model_validate(raw, context={"base_dir": source.parent})
    except ValidationError as error:
        raise ConfigError(validation_message(error, Settings, source, text, _PATTERN_HINTS)) from error


def _refuse_secrets(node: object, source: Path, loc: tuple[str | int, ...]) -> None:
    if isinstance(node, list):
        for index, item in enumerate(node):
            _refuse_secrets(item, source, (*loc, index))
    if not isinstance(node, Mapping):
        return
    for key, value in node.items():
        if _SECRET_KEY.search(re.sub(r"[^a-z0-9]+", "_", key.lower())):
            if loc[:1] == ("email",):
                where = SMTP_PASSWORD_ENV
            elif loc[:1] == ("webhooks",):
                hook = node.get("name")
                where = webhook_secret_env(hook if isinstance(hook, str) else "<name>")
            else:
                where = f"{SMTP_PASSWORD_ENV} or {WEBHOOK_SECRET_ENV_PREFIX}<NAME>"
            raise ConfigError(
                f"{source}: {dotted((*loc, key))}: secrets never go in the config file; "
                f"remove it and set {where} in the environment"
            )
        _refuse_secrets(value, source, (*loc, key))
