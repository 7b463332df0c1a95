"""Every error caseclock raises on purpose, and the exit code the command line gives it.

    CaseclockError
    ├── Refused                 exit 2: the input was refused; nothing was written
    │   ├── InvalidValue        a field, option or setting has a value it cannot take
    │   ├── EventRefused        an event that does not fit the case's history
    │   ├── UnknownCase         no case has that reference
    │   ├── ConfigError         the TOML configuration is invalid
    │   └── PackError           a rule pack is invalid
    └── OperationFailed         exit 1: the operation could not be carried out
        ├── ConcurrencyError    another writer changed the case first; run the command again
        └── StoreUnavailable    the database cannot be reached, or needs `caseclock init`

Every message is one line that names what was wrong and how to put it right: the CLI prints it as it is.
Refusals also carry their parts (the field, the value, the reason in plain words, the values allowed), so the
TUI can word them with its own labels beside the field concerned, with no command-line flags. Raised by the
domain and the store; caught only at the edges (CLI, TUI).
"""

from __future__ import annotations


class CaseclockError(Exception):
    """Base of every error caseclock raises on purpose."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class Refused(CaseclockError):
    """The input was refused and nothing was written."""

    exit_code = 2


class InvalidValue(Refused):
    """A field, option or setting has a value it cannot take.

    Args:
        field: The name the user typed (a field, an option or a config key).
        value: The value as given.
        fix: What to do instead, e.g. "use one of agreed, partly_agreed, not_agreed".
        allowed: The values the field could take instead, where they are known (a form offers them).
        reason: What is wrong in plain words, with no command-line flag or case prefix ("needed", "there
            is no month 13; use a date such as ..."); defaults to `fix`.
        withheld: Why the value must not be shown, when it must not ("personal", "free text", "unknown
            field"): the message then names the field only, and `value` is `NOT_SHOWN`. Refusals are printed,
            logged and shown on shared screens, so a personal or free-text value never appears in one.
    """

    MISSING = "(missing)"
    """The value of a required field that was not given."""
    NOT_SHOWN = "(value not shown)"
    """What stands for a withheld value."""

    def __init__(
        self,
        field: str,
        value: object,
        fix: str,
        allowed: tuple[str, ...] = (),
        *,
        reason: str | None = None,
        withheld: str | None = None,
    ) -> None:
        if withheld is not None and value != self.MISSING:
            fix, reason = _without(fix, value), None if reason is None else _without(reason, value)
            super().__init__(f"{field} ({withheld}, value not shown): {fix}")
            value = self.NOT_SHOWN
        else:
            withheld = None
            super().__init__(f"{field}={value!s}: {fix}")
        self.field = field
        self.value = value
        self.fix = fix
        self.allowed = allowed
        self.reason = fix if reason is None else reason
        self.withheld = withheld

    def withholding(self, why: str) -> InvalidValue:
        """This refusal with its value withheld (see `withheld`); the value is left out of its words too."""
        if self.withheld is not None:
            return self
        return InvalidValue(self.field, self.value, self.fix, self.allowed, reason=self.reason, withheld=why)

    @property
    def missing(self) -> bool:
        """Whether the field was required and left empty."""
        return self.value == self.MISSING


def _without(text: str, value: object) -> str:
    """`text` with every mention of `value` replaced by a placeholder (a date refusal quotes the date)."""
    shown = str(value).strip()
    if not shown:
        return text
    text = text.replace(repr(shown), InvalidValue.NOT_SHOWN)
    # A very short value ("a") would match inside other words; quoted, it was replaced above.
    return text.replace(shown, InvalidValue.NOT_SHOWN) if len(shown) >= 3 else text


class EventRefused(Refused):
    """An event that does not fit the case: names the case, the event, the state and what is allowed.

    Args:
        message: The one line the command line prints.
        reason: Why, in plain words without the case prefix or commands ("needs mediation_requested first").
        allowed: The events the case takes now, where the refusal is about its state.
        field: The field at fault, where there is one (the reference of a new case that is taken).
    """

    def __init__(
        self, message: str, *, reason: str = "", allowed: tuple[str, ...] = (), field: str | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason or message
        self.allowed = allowed
        self.field = field


class UnknownCase(Refused):
    """No case has the given reference."""

    def __init__(self, ref: str) -> None:
        from tracker.domain.refs import shown  # here: errors.py is imported by everything, refs by few

        super().__init__(f"case {shown(ref)}: no case has this reference; `caseclock cases --all` lists them")
        self.ref = ref


class ConfigError(Refused):
    """The configuration file is invalid: names the file, the key and what is wrong."""


class PackError(Refused):
    """A rule pack is invalid: names the file, the key and what is wrong."""


class OperationFailed(CaseclockError):
    """The operation could not be carried out (a server, a lock, a conflict)."""


class ConcurrencyError(OperationFailed):
    """Another writer appended to the case first; the caller may read it again and retry.

    Args:
        message: The one line the command line prints.
        ref: The case, where known.
        read_version: The case's last event when the caller read it; the events after it are what changed.
    """

    def __init__(self, message: str, *, ref: str | None = None, read_version: int | None = None) -> None:
        super().__init__(message)
        self.ref = ref
        self.read_version = read_version


class StoreUnavailable(OperationFailed):
    """The database cannot be reached or is not initialised."""
