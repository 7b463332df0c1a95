r"""What a case reference may be: the one rule `open`, `import` and the TUI's new-case form check.

A reference is matched as a whole (`fullmatch`): a pattern anchored with `$` also matches before a final
newline, so `"M-0042\n"` would pass and become a case that no typed reference ever finds.
"""

from __future__ import annotations

import re

REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
"""Letters and digits, then also `-`, `.`, `_` and `/`; at most 64 characters."""
REFERENCE_HELP = "use letters, digits and - . _ / (up to 64), e.g. M-0042"
"""How to put a refused reference right, in the words of every refusal."""


def is_reference(text: str) -> bool:
    """Whether the whole of `text` is a valid case reference."""
    return REFERENCE.fullmatch(text) is not None


def shown(text: str) -> str:
    """A refused reference as a refusal may print it: on one line, its control characters escaped."""
    return text if text.isprintable() else repr(text)
